package payloadsvc

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/oidctest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestJWKSBadInput: what an issuer may publish. Keys that cannot verify (symmetric,
// for encryption, of an unknown type, broken) are skipped with a log line naming them,
// without hiding the good ones; a set with none left, or that is not a JWKS, or too
// large, or not 200, is an error naming the problem.
func TestJWKSBadInput(t *testing.T) {
	good := oidctest.NewKey(t, "good", jose.ES256)
	goodJWK, err := json.Marshal(jose.JSONWebKey{Key: good.Priv.Public(), KeyID: "good", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	private, err := json.Marshal(jose.JSONWebKey{Key: good.Priv, KeyID: "leaked-private"})
	if err != nil {
		t.Fatal(err)
	}
	oct := `{"kty":"oct","kid":"hmac","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ"}`
	enc := strings.Replace(string(goodJWK), `"use":"sig"`, `"use":"enc"`, 1)
	enc = strings.Replace(enc, `"kid":"good"`, `"kid":"for-encryption"`, 1)
	for _, tc := range []struct {
		name, body string
		status     int
		keys       int    // usable keys; 0 = an error
		want       string // in the error, or in the log when keys > 0
	}{
		{"good and skipped", `{"keys":[` + oct + `,` + enc + `,{"kty":"XYZ","kid":"odd"},` + string(goodJWK) + `]}`,
			200, 1, "not a public signing key"},
		{"private key published", `{"keys":[` + string(private) + `]}`, 200, 1, ""},
		{"only symmetric", `{"keys":[` + oct + `]}`, 200, 0, "no usable signing keys"},
		{"empty", `{"keys":[]}`, 200, 0, "no usable signing keys"},
		{"not JSON", `<html>`, 200, 0, "not a JWKS"},
		{"not found", `{}`, 404, 0, "404"},
		{"too large", `{"keys":[` + strings.Repeat(" ", maxJWKSBytes) + `]}`, 200, 0, "over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			logs := &testenv.SyncBuffer{}
			ks := newKeySet(srv.URL, srv.Client(), time.Second, time.Minute, slog.New(slog.NewTextHandler(logs, nil)))
			keys, err := ks.candidates(t.Context(), "")
			if tc.keys == 0 {
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), srv.URL) {
					t.Fatalf("err = %v, want one naming %q and the URL", err, tc.want)
				}
				return
			}
			if err != nil || len(keys) != tc.keys {
				t.Fatalf("%d keys, %v; want %d", len(keys), err, tc.keys)
			}
			for _, k := range keys {
				if !k.IsPublic() {
					t.Errorf("key %s kept its private part", k.KeyID)
				}
			}
			if !strings.Contains(logs.String(), tc.want) {
				t.Errorf("log lacks %q:\n%s", tc.want, logs.String())
			}
		})
	}
}
