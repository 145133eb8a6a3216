package payloadsvc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
)

// Workers on a static token and people through SSO, together: a Chain asks the tokens
// file first, then the OIDC issuer. The issuer here is a stand-in publishing one ECDSA
// key; a real one is found by discovery from its URL.
func ExampleChain() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256"}}})
	}))
	defer idp.Close()

	workers, err := payloadsvc.NewTokenAuthorizer(map[string][]string{"orders-worker-token-0123456789": {"orders"}})
	if err != nil {
		log.Fatal(err)
	}
	people, err := payloadsvc.NewOIDCAuthorizer(context.Background(), payloadsvc.OIDCOptions{
		Issuer: "https://idp.example.com", Audiences: []string{"api://temporal"}, JWKSURL: idp.URL,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	h, err := payloadsvc.NewHandler(memstore.New(), payloadsvc.Options{
		Authorizer: payloadsvc.Chain{workers, people},
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	svc := httptest.NewServer(h)
	defer svc.Close()

	// The access token the Temporal UI passes: Temporal's permissions claim.
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	token, _ := jwt.Signed(signer).Claims(map[string]any{
		"iss": "https://idp.example.com", "aud": "api://temporal", "sub": "alice@example.com",
		"exp": time.Now().Add(time.Hour).Unix(), "permissions": []string{"orders:read"},
	}).Serialize()

	for _, op := range []string{"decode", "encode"} {
		req, _ := http.NewRequest("POST", svc.URL+"/codec/orders/"+op, strings.NewReader(`{"payloads":[]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Println(op, resp.StatusCode)
	}
	// Output:
	// decode 200
	// encode 403
}
