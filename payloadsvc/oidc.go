package payloadsvc

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
)

// Defaults for OIDCOptions fields left zero.
const (
	DefaultJWTClaim            = "permissions" // Temporal's permissions claim
	DefaultJWTHeader           = "Authorization"
	DefaultClockSkew           = 30 * time.Second
	DefaultMinKeyRefresh       = 10 * time.Second
	DefaultMaxKeyAge           = 10 * time.Minute
	maxTokenBytes              = 16 << 10 // far over any real access token
	discoveryTimeout           = 15 * time.Second
	permissionScopeSystem      = "temporal-system" // Temporal's system scope
	permissionScopeSystemAdmin = "system"          // "system:admin" grants every namespace; other roles name a namespace "system"
)

// AsymmetricAlgorithms are the JWS algorithms an OIDCAuthorizer accepts by default and
// at most: no "none", no HMAC (a public key must never serve as an HMAC secret).
var AsymmetricAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// OIDCOptions configures NewOIDCAuthorizer.
type OIDCOptions struct {
	// Issuer is the iss tokens must carry, exactly; without JWKSURL it is also where
	// discovery (Issuer + "/.well-known/openid-configuration") finds the keys. Required.
	Issuer string
	// Audiences: a token's aud must name one of them. Required: an access token the
	// issuer made for another application must not open this one.
	Audiences []string
	// JWKSURL is the issuer's key set, for issuers without discovery; it skips discovery.
	JWKSURL string
	// Claim holds the permissions, Temporal's way: a list of "<namespace>:<role>"
	// strings. Default "permissions".
	Claim string
	// Header carries the token; default Authorization (as "Bearer <jwt>"). Any other
	// header (Cf-Access-Jwt-Assertion, say) carries the bare JWT.
	Header string
	// ClockSkew is the leeway on exp, nbf and iat; default 30 s; negative means none.
	ClockSkew time.Duration
	// Algorithms narrows AsymmetricAlgorithms (the default); others are refused.
	Algorithms []string
	// MinKeyRefresh: a token with an unknown kid refetches the keys at most this often;
	// default 10 s.
	MinKeyRefresh time.Duration
	// MaxKeyAge: keys older than this are refetched in the background, so a key the
	// issuer removed stops verifying; default 10 minutes.
	MaxKeyAge time.Duration
	// HTTPClient fetches discovery and keys; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger receives key fetches and problems; default slog.Default().
	Logger *slog.Logger
}

// OIDCAuthorizer admits requests carrying a JWT that the issuer signed (keys from its
// JWKS), within its validity, for the configured audience, whose permissions claim
// grants the namespace: "<ns>:read" reads (decode, previews, downloads, blob GET),
// "<ns>:write", "<ns>:worker" and "<ns>:admin" also write (encode, blob PUT);
// "temporal-system:<role>" and "system:admin" grant every namespace. As in Temporal's
// server, roles are case-insensitive and the request's namespace is lowercased before
// it is looked up among the claim's namespaces.
type OIDCAuthorizer struct {
	issuer    string
	audiences []string
	claim     string
	header    string
	bearer    bool
	skew      time.Duration
	algs      []jose.SignatureAlgorithm
	keys      *keySet
	now       func() time.Time
}

var _ AccessAuthorizer = (*OIDCAuthorizer)(nil)

// NewOIDCAuthorizer discovers the issuer's key set (unless JWKSURL is given) and
// fetches it once, so a wrong issuer or URL fails here rather than on every request.
func NewOIDCAuthorizer(ctx context.Context, opts OIDCOptions) (*OIDCAuthorizer, error) {
	a, err := opts.authorizer()
	if err != nil {
		return nil, err
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: jwksFetchTimeout}
	}
	log := cmp.Or(opts.Logger, slog.Default())
	url := opts.JWKSURL
	if url == "" {
		if url, err = discoverJWKS(ctx, client, opts.Issuer); err != nil {
			return nil, err
		}
	}
	a.keys = newKeySet(url, client, cmp.Or(opts.MinKeyRefresh, DefaultMinKeyRefresh), cmp.Or(opts.MaxKeyAge, DefaultMaxKeyAge), log)
	if _, err := a.keys.candidates(ctx, ""); err != nil {
		return nil, fmt.Errorf("payloadsvc: oidc: %w", err)
	}
	return a, nil
}

// authorizer checks the options and applies the defaults.
func (o OIDCOptions) authorizer() (*OIDCAuthorizer, error) {
	switch {
	case o.Issuer == "":
		return nil, errors.New("payloadsvc: oidc: Issuer is required (the iss of the tokens)")
	case len(o.Audiences) == 0 || slices.Contains(o.Audiences, ""):
		return nil, errors.New("payloadsvc: oidc: Audiences is required, without empty entries (the aud of the tokens)")
	case o.MinKeyRefresh < 0 || o.MaxKeyAge < 0:
		return nil, errors.New("payloadsvc: oidc: MinKeyRefresh and MaxKeyAge must not be negative")
	}
	a := &OIDCAuthorizer{
		issuer:    o.Issuer,
		audiences: o.Audiences,
		claim:     cmp.Or(o.Claim, DefaultJWTClaim),
		header:    http.CanonicalHeaderKey(cmp.Or(o.Header, DefaultJWTHeader)),
		skew:      max(cmp.Or(o.ClockSkew, DefaultClockSkew), 0),
		now:       time.Now,
	}
	a.bearer = a.header == "Authorization"
	algs := o.Algorithms
	if len(algs) == 0 {
		algs = AsymmetricAlgorithms
	}
	for _, alg := range algs {
		if !slices.Contains(AsymmetricAlgorithms, alg) {
			return nil, fmt.Errorf("payloadsvc: oidc: algorithm %q is not allowed (allowed: %s)", alg, strings.Join(AsymmetricAlgorithms, ", "))
		}
		a.algs = append(a.algs, jose.SignatureAlgorithm(alg))
	}
	return a, nil
}

// discoverJWKS reads the issuer's discovery document; go-oidc checks that it names
// the same issuer.
func discoverJWKS(ctx context.Context, client *http.Client, issuer string) (string, error) {
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, client), discoveryTimeout)
	defer cancel()
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return "", fmt.Errorf("payloadsvc: oidc discovery for %s: %w", issuer, err)
	}
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&meta); err != nil || meta.JWKS == "" {
		return "", fmt.Errorf("payloadsvc: oidc discovery for %s: no jwks_uri (set the JWKS URL)", issuer)
	}
	return meta.JWKS, nil
}

// Authorize admits the request to the whole namespace (reads and writes).
func (a *OIDCAuthorizer) Authorize(r *http.Request, namespace string) error {
	_, err := a.AuthorizeAccess(r, namespace, AccessWrite)
	return err
}

// AuthorizeAccess verifies the request's JWT and checks its grant for namespace.
func (a *OIDCAuthorizer) AuthorizeAccess(r *http.Request, namespace string, access Access) (Identity, error) {
	raw, err := a.token(r)
	if err != nil {
		return Identity{}, err
	}
	claims, err := a.verify(r.Context(), raw)
	if err != nil {
		return Identity{}, err
	}
	id := Identity{Subject: claims.subject, Method: "jwt"}
	if err := a.grant(claims, namespace, access); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// token returns the request's JWT, or a refusal a Chain may pass on: no header, or a
// value that is not shaped like a JWT (a static token, say).
func (a *OIDCAuthorizer) token(r *http.Request) (string, error) {
	v := strings.TrimSpace(r.Header.Get(a.header))
	if v == "" {
		return "", notRecognized(ReasonNoCredential, "missing token (send %s)", a.wants())
	}
	scheme, rest, ok := strings.Cut(v, " ")
	switch {
	case ok && strings.EqualFold(scheme, "Bearer"):
		v = strings.TrimSpace(rest)
	case a.bearer:
		return "", notRecognized(ReasonNoCredential, "%s is not a bearer token (send %s)", a.header, a.wants())
	}
	if len(v) > maxTokenBytes || !jwtShaped(v) {
		return "", notRecognized(ReasonMalformed, "token is not a JWT (send %s)", a.wants())
	}
	return v, nil
}

func (a *OIDCAuthorizer) wants() string {
	if a.bearer {
		return "Authorization: Bearer <jwt>"
	}
	return a.header + ": <jwt>"
}

// jwtShaped reports whether s is three base64url parts whose first is a JSON object.
func jwtShaped(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	head, err := base64.RawURLEncoding.DecodeString(parts[0])
	return err == nil && json.Valid(head) && strings.HasPrefix(strings.TrimSpace(string(head)), "{")
}

// joseHeader is what is read of a token's header before its signature is checked.
type joseHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

func parseHeader(raw string) (joseHeader, error) {
	var h joseHeader
	seg, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err == nil {
		err = json.Unmarshal(b, &h)
	}
	return h, err
}
