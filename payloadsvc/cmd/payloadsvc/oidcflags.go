package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/textproto"
	"strings"
	"time"

	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
)

// validateOIDC checks the OIDC flags: they go with --oidc-issuer, which needs an
// audience.
func (c *config) validateOIDC() error {
	if c.oidcIssuer == "" {
		if len(c.oidcAudiences.values) > 0 || c.jwksURL != "" {
			return errors.New("--oidc-audience and --jwks-url need --oidc-issuer")
		}
		return nil
	}
	switch {
	case len(c.oidcAudiences.values) == 0:
		return errors.New("--oidc-issuer needs --oidc-audience: the aud your issuer puts in tokens for this service")
	case c.jwtClockSkew < 0:
		return fmt.Errorf("--jwt-clock-skew %s: want 0 or more", c.jwtClockSkew)
	case c.jwtClaim == "":
		return errors.New("--jwt-claim is empty")
	case c.jwtHeader == "" || strings.ContainsAny(c.jwtHeader, " :\t") ||
		textproto.CanonicalMIMEHeaderKey(c.jwtHeader) == "Authorization-Extras":
		return fmt.Errorf("--jwt-header %q: want a header name such as Authorization or Cf-Access-Jwt-Assertion", c.jwtHeader)
	}
	return nil
}

// authEnabled reports whether any authorizer is configured.
func (c *config) authEnabled() bool { return c.authTokensFile != "" || c.oidcIssuer != "" }

// authorizer builds what the flags ask for: static tokens, OIDC, or both in a chain
// (a listed token decides first, then a JWT); nil for none.
func authorizer(cfg *config, log *slog.Logger) (payloadsvc.Authorizer, error) {
	var chain payloadsvc.Chain
	if cfg.authTokensFile != "" {
		a, err := payloadsvc.LoadTokensFile(cfg.authTokensFile)
		if err != nil {
			return nil, err
		}
		for _, w := range a.Warnings() {
			log.Warn("payloadsvc: weak tokens: " + w)
		}
		chain = append(chain, a)
	}
	if cfg.oidcIssuer != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		skew := cfg.jwtClockSkew
		if skew == 0 {
			skew = -1 // the flag's 0 means none; the option's 0 means its default
		}
		a, err := payloadsvc.NewOIDCAuthorizer(ctx, payloadsvc.OIDCOptions{
			Issuer:    cfg.oidcIssuer,
			Audiences: cfg.oidcAudiences.values,
			JWKSURL:   cfg.jwksURL,
			Claim:     cfg.jwtClaim,
			Header:    cfg.jwtHeader,
			ClockSkew: skew,
			Logger:    log,
		})
		if err != nil {
			return nil, err
		}
		log.Info("payloadsvc: accepting JWTs", "issuer", cfg.oidcIssuer, "audience", cfg.oidcAudiences.values,
			"claim", cfg.jwtClaim, "header", cfg.jwtHeader, "clock_skew", cfg.jwtClockSkew)
		chain = append(chain, a)
	}
	switch len(chain) {
	case 0:
		return nil, nil
	case 1:
		return chain[0], nil
	}
	return chain, nil
}
