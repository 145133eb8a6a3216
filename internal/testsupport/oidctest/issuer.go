// Package oidctest is a local OpenID Connect issuer for tests: a discovery document
// and a JWKS over HTTP, RSA and ECDSA signing keys that can be rotated, a count of key
// set fetches, and tokens signed (with go-jose) the right way and the wrong ways.
package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Audience is the aud the issuer's tokens carry by default.
const Audience = "longhaul-payloadsvc"

// Key is a signing key the issuer may publish.
type Key struct {
	ID   string
	Alg  jose.SignatureAlgorithm
	Priv crypto.Signer
}

// Issuer is an OIDC issuer on a loopback httptest server.
type Issuer struct {
	URL string

	mu      sync.Mutex
	keys    []Key // published, newest last
	next    int   // rotation counter
	fetches atomic.Int64
}

// Start runs an issuer publishing an RSA key ("rsa-1", RS256) and an ECDSA P-256 key
// ("ec-1", ES256); it stops at the end of the test.
func Start(t testing.TB) *Issuer {
	t.Helper()
	iss := &Issuer{next: 1}
	iss.keys = []Key{NewKey(t, "rsa-1", jose.RS256), NewKey(t, "ec-1", jose.ES256)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                iss.URL,
			"jwks_uri":                              iss.URL + "/keys",
			"authorization_endpoint":                iss.URL + "/auth",
			"token_endpoint":                        iss.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		iss.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(iss.JWKS())
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.URL = srv.URL
	return iss
}

// NewKey makes a key for alg (RS*/PS* get RSA 2048, ES256 P-256, ES384 P-384).
func NewKey(t testing.TB, id string, alg jose.SignatureAlgorithm) Key {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatal(err)
	}
	return Key{ID: id, Alg: alg, Priv: priv}
}

// JWKS is the published key set: public keys only.
func (iss *Issuer) JWKS() jose.JSONWebKeySet {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	var set jose.JSONWebKeySet
	for _, k := range iss.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Priv.Public(), KeyID: k.ID, Algorithm: string(k.Alg), Use: "sig"})
	}
	return set
}

// Fetches is how many times the key set was fetched.
func (iss *Issuer) Fetches() int64 { return iss.fetches.Load() }

// Keys returns the published keys, oldest first.
func (iss *Issuer) Keys() []Key {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return append([]Key(nil), iss.keys...)
}

// Rotate replaces the RSA key with a new one ("rsa-2", "rsa-3", ...): the old one is
// no longer published. It returns the new key.
func (iss *Issuer) Rotate(t testing.TB) Key {
	t.Helper()
	iss.mu.Lock()
	iss.next++
	id := fmt.Sprintf("rsa-%d", iss.next)
	iss.mu.Unlock()
	k := NewKey(t, id, jose.RS256)
	iss.mu.Lock()
	defer iss.mu.Unlock()
	for i, old := range iss.keys {
		if old.Alg == jose.RS256 {
			iss.keys[i] = k
		}
	}
	return k
}

// Claims are a token's claims: iss, aud, sub, iat, exp (in 5 minutes) and, when
// permissions are given, Temporal's "permissions" claim. Tests edit the map.
func (iss *Issuer) Claims(sub string, permissions ...string) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss": iss.URL,
		"aud": []string{Audience},
		"sub": sub,
		"iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
	}
	if permissions != nil {
		c["permissions"] = permissions
	}
	return c
}

// Token signs claims with the issuer's current key of alg (RS256 or ES256).
func (iss *Issuer) Token(t testing.TB, alg jose.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	for _, k := range iss.Keys() {
		if k.Alg == alg {
			return Sign(t, k, claims)
		}
	}
	t.Fatalf("oidctest: no published %s key", alg)
	return ""
}

// Sign signs claims with k, naming k.ID as the kid.
func Sign(t testing.TB, k Key, claims map[string]any) string {
	t.Helper()
	return sign(t, jose.SigningKey{Algorithm: k.Alg, Key: k.Priv}, k.ID, claims)
}

// HMACWithPublicKey is the classic forgery: HS256 keyed with the RSA public key's DER
// bytes, which anyone can download, naming the key's kid.
func HMACWithPublicKey(t testing.TB, k Key, claims map[string]any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, jose.SigningKey{Algorithm: jose.HS256, Key: der}, k.ID, claims)
}

// Unsigned is a token with alg "none" and an empty signature, naming kid.
func Unsigned(t testing.TB, kid string, claims map[string]any) string {
	t.Helper()
	head, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": kid})
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(head) + "." + base64.RawURLEncoding.EncodeToString(body) + "."
}

func sign(t testing.TB, key jose.SigningKey, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), kid)
	signer, err := jose.NewSigner(key, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
