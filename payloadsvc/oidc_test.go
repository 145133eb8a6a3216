package payloadsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/oidctest"
)

// oidcService runs the service with an OIDCAuthorizer for iss (audience
// oidctest.Audience), plus the options' own Authorizer in front of it, if any.
func oidcService(t *testing.T, iss *oidctest.Issuer, oo OIDCOptions, opts Options) *service {
	t.Helper()
	oo.Issuer = iss.URL
	if oo.Logger == nil {
		oo.Logger = slog.New(slog.DiscardHandler) // key fetches; the service's own log is in svc.logs
	}
	if oo.Audiences == nil {
		oo.Audiences = []string{oidctest.Audience}
	}
	a, err := NewOIDCAuthorizer(testCtx(t, time.Minute), oo)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Authorizer != nil {
		opts.Authorizer = Chain{opts.Authorizer, a}
	} else {
		opts.Authorizer = a
	}
	return startService(t, nil, opts)
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// refusals is the reason counter's value.
func (s *service) refusals(reason string) float64 {
	return testutil.ToFloat64(s.h.metrics.authRefusals.WithLabelValues(reason))
}

// TestOIDCRefusals: each kind of bad token is refused with 401 or 403, its reason in
// the audit log and the refusal counter, while good RSA and ECDSA tokens decode.
func TestOIDCRefusals(t *testing.T) {
	iss := oidctest.Start(t)
	svc := oidcService(t, iss, OIDCOptions{}, Options{})
	rsaKey := iss.Keys()[0]
	claims := func(edit func(map[string]any)) map[string]any {
		c := iss.Claims("alice", "default:read")
		if edit != nil {
			edit(c)
		}
		return c
	}
	ago := func(d time.Duration) int64 { return time.Now().Add(-d).Unix() }
	for _, tc := range []struct {
		name   string
		token  string // "" sends no Authorization
		status int
		reason string
	}{
		{"valid RS256", iss.Token(t, jose.RS256, claims(nil)), 200, ""},
		{"valid ES256", iss.Token(t, jose.ES256, claims(nil)), 200, ""},
		{"expired within the skew", iss.Token(t, jose.RS256, claims(func(c map[string]any) { c["exp"] = ago(10 * time.Second) })), 200, ""},
		{"no token", "", 401, ReasonNoCredential},
		{"not a JWT", "opaque-token-0123456789", 401, ReasonMalformed},
		{"wrong signature", oidctest.Sign(t, oidctest.NewKey(t, rsaKey.ID, jose.RS256), claims(nil)), 401, ReasonBadSignature},
		{"alg none", oidctest.Unsigned(t, rsaKey.ID, claims(nil)), 401, ReasonAlg},
		{"HS256 with the public key", oidctest.HMACWithPublicKey(t, rsaKey, claims(nil)), 401, ReasonAlg},
		{"wrong iss", iss.Token(t, jose.RS256, claims(func(c map[string]any) { c["iss"] = "https://evil.example" })), 401, ReasonIssuer},
		{"wrong aud", iss.Token(t, jose.RS256, claims(func(c map[string]any) { c["aud"] = "another-app" })), 401, ReasonAudience},
		{"expired", iss.Token(t, jose.ES256, claims(func(c map[string]any) { c["exp"] = ago(2 * time.Minute) })), 401, ReasonExpired},
		{"not yet valid", iss.Token(t, jose.RS256, claims(func(c map[string]any) { c["nbf"] = ago(-2 * time.Minute) })), 401, ReasonNotYetValid},
		{"no exp", iss.Token(t, jose.RS256, claims(func(c map[string]any) { delete(c, "exp") })), 401, ReasonMalformed},
		{"no sub", iss.Token(t, jose.RS256, claims(func(c map[string]any) { delete(c, "sub") })), 401, ReasonMalformed},
		{"unknown kid", oidctest.Sign(t, oidctest.NewKey(t, "rsa-unknown", jose.RS256), claims(nil)), 401, ReasonUnknownKID},
		{"another namespace", iss.Token(t, jose.RS256, iss.Claims("bob", "billing:write")), 403, ReasonNamespace},
		{"missing claim", iss.Token(t, jose.RS256, iss.Claims("carol")), 403, ReasonMissingClaim},
		{"claim not a list", iss.Token(t, jose.RS256, claims(func(c map[string]any) { c["permissions"] = "default:read" })),
			403, ReasonMissingClaim},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.token != "" {
				hdr = bearer(tc.token)
			}
			before := svc.refusals(tc.reason)
			status, _, body := svc.do(t, "POST", "/codec/default/decode", []byte(`{"payloads":[]}`), hdr)
			if status != tc.status {
				t.Fatalf("%d %s, want %d", status, body, tc.status)
			}
			if tc.reason == "" {
				return
			}
			if got := svc.refusals(tc.reason) - before; got != 1 {
				t.Errorf("payloadsvc_auth_refusals_total{reason=%q} grew by %v, want 1", tc.reason, got)
			}
			if line := auditLine(t, svc, "event=refused", "reason="+tc.reason); !strings.Contains(line, "namespace=default") {
				t.Errorf("refusal line lacks the namespace: %s", line)
			}
		})
	}
	if t.Failed() {
		t.Logf("log:\n%s", svc.logs.String())
	}
}

// auditLine returns the last audit line holding every want, failing the test without one.
func auditLine(t *testing.T, svc *service, want ...string) string {
	t.Helper()
	lines := strings.Split(svc.logs.String(), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if !strings.Contains(l, `msg="payloadsvc: audit"`) {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			return l
		}
	}
	t.Fatalf("no audit line with %q in the log:\n%s", want, svc.logs.String())
	return ""
}

// TestOIDCReadAndWrite: a read grant decodes and reads blobs but cannot encode or
// PUT; write does both; system scopes reach every namespace, as in Temporal.
func TestOIDCReadAndWrite(t *testing.T) {
	iss := oidctest.Start(t)
	svc := oidcService(t, iss, OIDCOptions{}, Options{Codec: codec.Options{Threshold: 1}})
	blob, digest := randomBlob(t, 1000)
	put := func(tok, ns string) int {
		status, _, _ := svc.do(t, "PUT", "/v1/namespaces/"+ns+"/blobs/sha256/"+digest, blob, bearer(tok))
		return status
	}
	encode := func(tok, ns string) int {
		status, _, _ := svc.do(t, "POST", "/codec/"+ns+"/encode", payloadsJSON(t, jsonPayload(t, "hello")), bearer(tok))
		return status
	}
	decode := func(tok, ns string) int {
		status, _, _ := svc.do(t, "POST", "/codec/"+ns+"/decode", payloadsJSON(t, jsonPayload(t, "hello")), bearer(tok))
		return status
	}
	get := func(tok, ns string) int {
		status, _, _ := svc.do(t, "GET", "/v1/namespaces/"+ns+"/blobs/sha256/"+digest, nil, bearer(tok))
		return status
	}
	read := iss.Token(t, jose.RS256, iss.Claims("reader", "default:read"))
	write := iss.Token(t, jose.ES256, iss.Claims("writer", "default:Write", "default:read"))
	worker := iss.Token(t, jose.RS256, iss.Claims("worker", "default:worker"))
	sysAdmin := iss.Token(t, jose.RS256, iss.Claims("root", "system:admin"))
	tsysRead := iss.Token(t, jose.RS256, iss.Claims("auditor", "temporal-system:read"))
	for _, tc := range []struct {
		name string
		got  int
		want int
	}{
		{"read: encode", encode(read, "default"), 403},
		{"read: PUT", put(read, "default"), 403},
		{"read: decode", decode(read, "default"), 200},
		{"write: encode", encode(write, "default"), 200},
		{"write: PUT", put(write, "default"), 201},
		{"read: GET", get(read, "default"), 200},
		{"read: GET in another namespace", get(read, "billing"), 403},
		{"worker: encode", encode(worker, "default"), 200},
		{"system:admin: encode anywhere", encode(sysAdmin, "billing"), 200},
		{"temporal-system:read: decode anywhere", decode(tsysRead, "billing"), 200},
		{"temporal-system:read: no encode", encode(tsysRead, "billing"), 403},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, tc.got, tc.want)
		}
	}
	if svc.refusals(ReasonReadOnly) != 3 {
		t.Errorf("read_only refusals = %v, want 3", svc.refusals(ReasonReadOnly))
	}
}

// TestOIDCGrantsLikeTemporal checks the permissions claim the way Temporal's default
// claim mapper and authorizer read it.
func TestOIDCGrantsLikeTemporal(t *testing.T) {
	a := &OIDCAuthorizer{claim: DefaultJWTClaim}
	for _, tc := range []struct {
		perms  []any
		ns     string
		access Access
		reason string // "" = allowed
	}{
		{[]any{"orders:read"}, "orders", AccessRead, ""},
		{[]any{"orders:READ"}, "orders", AccessRead, ""},                     // roles are case-insensitive
		{[]any{"orders:read"}, "Orders", AccessRead, ""},                     // the request's namespace is lowercased
		{[]any{"Orders:read"}, "Orders", AccessRead, ReasonNamespace},        // the claim's is not: Temporal never matches it
		{[]any{"orders:read"}, "orders", AccessWrite, ReasonReadOnly},        // read does not write
		{[]any{"orders:admin"}, "orders", AccessWrite, ""},                   // admin writes
		{[]any{"orders:owner"}, "orders", AccessRead, ReasonNamespace},       // unknown role
		{[]any{"orders"}, "orders", AccessRead, ReasonNamespace},             // no role
		{[]any{42, "orders:read"}, "orders", AccessRead, ""},                 // non-strings ignored
		{[]any{"system:read"}, "orders", AccessRead, ReasonNamespace},        // "system:" is the system scope for admin only
		{[]any{"system:read"}, "system", AccessRead, ""},                     // else a namespace called system
		{[]any{"temporal-system:write"}, "any", AccessWrite, ""},             // Temporal's system scope
		{[]any{"Temporal-System:admin"}, "any", AccessRead, ReasonNamespace}, // which is case-sensitive
		{[]any{"a:b:read"}, "a", AccessRead, ReasonNamespace},                // the namespace ends at the first colon
	} {
		err := a.grant(&verifiedClaims{subject: "s", permissions: tc.perms, hasClaim: true}, tc.ns, tc.access)
		if got := reasonOf(err); (err == nil) != (tc.reason == "") || (err != nil && got != tc.reason) {
			t.Errorf("%v for %s %s: %v (reason %s), want reason %q", tc.perms, tc.access, tc.ns, err, got, tc.reason)
		}
		if err != nil && !errors.Is(err, ErrForbidden) {
			t.Errorf("%v: %v does not wrap ErrForbidden", tc.perms, err)
		}
	}
}

// TestOIDCRotation: the issuer rotates its RSA key mid-test; tokens signed with the
// new key are accepted at once (an unknown kid refetches the keys), and tokens of the
// removed key are refused, both without a restart. A key removed while no token asked
// for a new one stops verifying once the keys are older than MaxKeyAge.
func TestOIDCRotation(t *testing.T) {
	iss := oidctest.Start(t)
	svc := oidcService(t, iss, OIDCOptions{MaxKeyAge: 300 * time.Millisecond}, Options{})
	decode := func(tok string) int {
		status, _, _ := svc.do(t, "POST", "/codec/default/decode", []byte(`{"payloads":[]}`), bearer(tok))
		return status
	}
	old := iss.Keys()[0]
	oldTok := oidctest.Sign(t, old, iss.Claims("alice", "default:read"))
	if s := decode(oldTok); s != 200 {
		t.Fatalf("before rotation: %d", s)
	}
	newKey := iss.Rotate(t)
	newTok := oidctest.Sign(t, newKey, iss.Claims("alice", "default:read"))
	if s := decode(newTok); s != 200 {
		t.Fatalf("a token of the new key %s: %d, want 200 without a restart", newKey.ID, s)
	}
	if s := decode(oldTok); s != 401 {
		t.Fatalf("a token of the removed key: %d, want 401", s)
	}
	auditLine(t, svc, "reason="+ReasonUnknownKID)

	// Rotate again; no token names the new key, yet the old one stops working.
	_ = iss.Rotate(t)
	deadline := time.Now().Add(20 * time.Second)
	for decode(newTok) == 200 {
		if time.Now().After(deadline) {
			t.Fatal("a removed key still verifies 20s after it was removed (MaxKeyAge 300ms)")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOIDCUnknownKIDFlood: 1,000 requests with random kids, 8 at a time, are all
// refused while the issuer's key set is fetched at most once per MinKeyRefresh; a
// valid token still decodes afterwards.
func TestOIDCUnknownKIDFlood(t *testing.T) {
	iss := oidctest.Start(t)
	const every = 500 * time.Millisecond
	svc := oidcService(t, iss, OIDCOptions{MinKeyRefresh: every}, Options{})
	foreign := oidctest.NewKey(t, "x", jose.ES256)
	claims := iss.Claims("mallory", "default:admin")
	start, before := time.Now(), iss.Fetches()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 125; i++ {
				k := foreign
				k.ID = fmt.Sprintf("kid-%x", rand.Uint64())
				tok := oidctest.Sign(t, k, claims)
				status, _, body, err := svc.try("POST", "/codec/default/decode", []byte(`{"payloads":[]}`), bearer(tok))
				if err == nil && status != 401 {
					err = fmt.Errorf("random kid: %d %s, want 401", status, body)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	fetches := iss.Fetches() - before
	limit := 1 + int64(elapsed/every)
	t.Logf("1000 random kids in %s: %d key set fetches (limit %d at one per %s)", elapsed.Round(time.Millisecond), fetches, limit, every)
	if fetches > limit || fetches < 1 {
		t.Errorf("%d key set fetches for 1000 unknown kids in %s, want 1..%d", fetches, elapsed, limit)
	}
	if got := svc.refusals(ReasonUnknownKID); got != 1000 {
		t.Errorf("unknown_kid refusals = %v, want 1000", got)
	}
	if s, _, b := svc.do(t, "POST", "/codec/default/decode", []byte(`{"payloads":[]}`), bearer(iss.Token(t, jose.RS256, claims))); s != 200 {
		t.Errorf("a valid token after the flood: %d %s", s, b)
	}
}

// TestChainStaticAndOIDC: static tokens and OIDC together; the authorizer that
// recognises the credential decides.
func TestChainStaticAndOIDC(t *testing.T) {
	iss := oidctest.Start(t)
	const static = "static-worker-token-0123456789"
	tokens, err := NewTokenAuthorizer(map[string][]string{static: {"default"}})
	if err != nil {
		t.Fatal(err)
	}
	svc := oidcService(t, iss, OIDCOptions{}, Options{Authorizer: tokens})
	body := []byte(`{"payloads":[]}`)
	for _, tc := range []struct {
		name, ns, token string
		status          int
		reason          string
	}{
		{"static token", "default", static, 200, ""},
		{"static token, other namespace", "billing", static, 403, ReasonNamespace},
		{"JWT", "billing", iss.Token(t, jose.RS256, iss.Claims("alice", "billing:read")), 200, ""},
		{"JWT, other namespace", "default", iss.Token(t, jose.RS256, iss.Claims("alice", "billing:read")), 403, ReasonNamespace},
		{"expired JWT", "billing", iss.Token(t, jose.RS256, map[string]any{"iss": iss.URL, "aud": oidctest.Audience, "sub": "a", "exp": 1}),
			401, ReasonExpired},
		{"unknown opaque token", "default", "not-a-listed-token-0123456789", 401, ReasonUnknownToken},
		{"nothing", "default", "", 401, ReasonNoCredential},
	} {
		hdr := map[string]string{}
		if tc.token != "" {
			hdr = bearer(tc.token)
		}
		status, _, out := svc.do(t, "POST", "/codec/"+tc.ns+"/decode", body, hdr)
		if status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, status, out, tc.status)
			continue
		}
		if tc.reason != "" {
			auditLine(t, svc, "reason="+tc.reason, "namespace="+tc.ns)
		}
	}
	auditLine(t, svc, "event=allowed", "auth=token", "subject=sha256:"+sha256Hex([]byte(static))[:8])
	auditLine(t, svc, "event=allowed", "auth=jwt", "subject=alice", "namespace=billing")
}

// TestOIDCCustomHeaderAndKeysDown: a proxy's header carries the bare JWT (with
// --jwks-url, no discovery); a key set that cannot be fetched at start is an error
// naming it, and one that fails later while a token needs it answers 503.
func TestOIDCCustomHeaderAndKeysDown(t *testing.T) {
	iss := oidctest.Start(t)
	a, err := NewOIDCAuthorizer(testCtx(t, time.Minute), OIDCOptions{
		Issuer: iss.URL, Audiences: []string{oidctest.Audience}, JWKSURL: iss.URL + "/keys", Header: "Cf-Access-Jwt-Assertion",
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := startService(t, nil, Options{Authorizer: a})
	tok := iss.Token(t, jose.ES256, iss.Claims("alice", "default:read"))
	cf := map[string]string{"Cf-Access-Jwt-Assertion": tok}
	if s, _, b := svc.do(t, "POST", "/codec/default/decode", []byte(`{"payloads":[]}`), cf); s != 200 {
		t.Errorf("JWT in Cf-Access-Jwt-Assertion: %d %s", s, b)
	}
	if s, _, _ := svc.do(t, "POST", "/codec/default/decode", []byte(`{"payloads":[]}`), bearer(tok)); s != 401 {
		t.Errorf("JWT in Authorization when the header is Cf-Access-Jwt-Assertion: %d, want 401", s)
	}

	_, err = NewOIDCAuthorizer(context.Background(), OIDCOptions{Issuer: iss.URL, Audiences: []string{"x"}, JWKSURL: iss.URL + "/nokeys"})
	if err == nil || !strings.Contains(err.Error(), "/nokeys") || !strings.Contains(err.Error(), "404") {
		t.Errorf("JWKS URL that 404s: %v, want an error naming it", err)
	}
	_, err = NewOIDCAuthorizer(context.Background(), OIDCOptions{Issuer: iss.URL + "/other", Audiences: []string{"x"}})
	if err == nil || !strings.Contains(err.Error(), "discovery") {
		t.Errorf("issuer without discovery: %v, want a discovery error", err)
	}
	for _, bad := range []OIDCOptions{
		{}, {Issuer: iss.URL}, {Issuer: iss.URL, Audiences: []string{""}},
		{Issuer: iss.URL, Audiences: []string{"a"}, Algorithms: []string{"HS256"}},
	} {
		if _, err := NewOIDCAuthorizer(context.Background(), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}

	// Keys unreachable when a new kid needs them: 503, not the caller's fault.
	down := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("issuer down") })}
	a2, err := NewOIDCAuthorizer(testCtx(t, time.Minute),
		OIDCOptions{Issuer: iss.URL, Audiences: []string{oidctest.Audience}, JWKSURL: iss.URL + "/keys"})
	if err != nil {
		t.Fatal(err)
	}
	a2.keys.client = down
	svc2 := startService(t, nil, Options{Authorizer: a2})
	tok2 := oidctest.Sign(t, iss.Rotate(t), iss.Claims("alice", "default:read"))
	if s, _, b := svc2.do(t, "POST", "/codec/default/decode", []byte(`{"payloads":[]}`), bearer(tok2)); s != 503 {
		t.Errorf("new kid while the issuer is down: %d %s, want 503", s, b)
	}
	auditLine(t, svc2, "reason="+ReasonUnavailable)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
