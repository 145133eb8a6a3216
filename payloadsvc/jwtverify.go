package payloadsvc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// verifiedClaims is what the service uses of a token whose signature and validity
// were checked.
type verifiedClaims struct {
	subject     string
	permissions []any
	hasClaim    bool
}

// verify checks a JWT: alg in the allowlist, signature by a key of the issuer (by
// kid), then iss, aud, exp, nbf and iat within the skew. Refusals name the check that
// failed and quote nothing of the token. A key set that cannot be fetched is a plain
// error (503).
func (a *OIDCAuthorizer) verify(ctx context.Context, raw string) (*verifiedClaims, error) {
	hdr, err := parseHeader(raw)
	if err != nil {
		return nil, unauthenticated(ReasonMalformed, "token header is not valid JSON")
	}
	if !slices.Contains(a.algs, jose.SignatureAlgorithm(hdr.Alg)) {
		return nil, unauthenticated(ReasonAlg, "token alg is not allowed (allowed: %s)", a.algNames())
	}
	tok, err := jwt.ParseSigned(raw, a.algs)
	if err != nil {
		return nil, unauthenticated(ReasonMalformed, "token is not a well-formed signed JWT")
	}
	keys, err := a.keys.candidates(ctx, hdr.Kid)
	switch {
	case errors.Is(err, errUnknownKID):
		return nil, unauthenticated(ReasonUnknownKID, "token is signed with a key the issuer does not publish (unknown kid)")
	case err != nil:
		return nil, fmt.Errorf("payloadsvc: oidc: %w", err)
	}
	var std jwt.Claims
	var all map[string]any
	verified := false
	for _, k := range keys {
		if k.Algorithm != "" && k.Algorithm != hdr.Alg {
			continue // a key published for one alg is not used with another
		}
		if err := tok.Claims(k.Key, &std, &all); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, unauthenticated(ReasonBadSignature, "token signature does not verify")
	}
	if err := a.validate(std); err != nil {
		return nil, err
	}
	perms, has := all[a.claim]
	list, isList := perms.([]any)
	if has && !isList {
		list = nil
	}
	return &verifiedClaims{subject: std.Subject, permissions: list, hasClaim: has && isList}, nil
}

// validate checks the registered claims of a verified token.
func (a *OIDCAuthorizer) validate(std jwt.Claims) error {
	err := std.ValidateWithLeeway(jwt.Expected{Issuer: a.issuer, AnyAudience: a.audiences, Time: a.now()}, a.skew)
	switch {
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return unauthenticated(ReasonIssuer, "token issuer is not the one this service trusts")
	case errors.Is(err, jwt.ErrInvalidAudience):
		return unauthenticated(ReasonAudience, "token audience does not name this service")
	case errors.Is(err, jwt.ErrExpired):
		return unauthenticated(ReasonExpired, "token expired at %s", std.Expiry.Time().UTC().Format("2006-01-02T15:04:05Z"))
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return unauthenticated(ReasonNotYetValid, "token is not valid yet (nbf or iat in the future)")
	case err != nil:
		return unauthenticated(ReasonMalformed, "token claims are not valid")
	case std.Expiry == nil:
		return unauthenticated(ReasonMalformed, "token has no exp claim")
	case std.Subject == "":
		return unauthenticated(ReasonMalformed, "token has no sub claim")
	}
	return nil
}

func (a *OIDCAuthorizer) algNames() string {
	names := make([]string, len(a.algs))
	for i, alg := range a.algs {
		names[i] = string(alg)
	}
	return strings.Join(names, ", ")
}

// grant checks the permissions claim, Temporal's way: "<namespace>:<role>" strings;
// the role is case-insensitive; the request's namespace is lowercased and looked up as
// the claim spells its namespaces. Entries that are not strings or have no role are
// ignored, as Temporal ignores them.
func (a *OIDCAuthorizer) grant(c *verifiedClaims, namespace string, access Access) error {
	if !c.hasClaim {
		return forbidden(ReasonMissingClaim, c.subject, "token has no %q claim listing \"<namespace>:<role>\" permissions", a.claim)
	}
	want := strings.ToLower(namespace)
	var got Access
	for _, p := range c.permissions {
		s, ok := p.(string)
		if !ok {
			continue
		}
		ns, role, ok := strings.Cut(s, ":")
		if !ok {
			continue
		}
		role = strings.ToLower(role)
		if ns == permissionScopeSystem || (ns == permissionScopeSystemAdmin && role == "admin") || ns == want {
			got = max(got, roleAccess(role))
		}
	}
	switch {
	case got == 0:
		return forbidden(ReasonNamespace, c.subject, "token grants nothing in namespace %q", namespace)
	case got < access:
		return forbidden(ReasonReadOnly, c.subject, "token grants only read in namespace %q; %s needs write, worker or admin", namespace, access)
	}
	return nil
}

// roleAccess maps Temporal's roles: read reads; write, worker and admin also write.
func roleAccess(role string) Access {
	switch role {
	case "read":
		return AccessRead
	case "write", "worker", "admin":
		return AccessWrite
	}
	return 0
}
