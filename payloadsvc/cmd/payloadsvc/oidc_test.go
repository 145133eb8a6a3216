package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/oidctest"
)

// TestBinaryOIDC runs the binary with a tokens file and an OIDC issuer: a JWT's read
// grant decodes and cannot encode or PUT, its write grant does both, a listed static
// token still works, --jwt-clock-skew 0s refuses a token 10 s past its exp, refused
// tokens with markers in every field leave none in the log, and the log (at debug
// level) has the audit lines and no token or payload byte.
func TestBinaryOIDC(t *testing.T) {
	iss := oidctest.Start(t)
	const static = "static-worker-token-5f1e0c9a77"
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte(static+" default\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, []string{"LONGHAUL_OIDC_AUDIENCE=" + oidctest.Audience},
		"--oidc-issuer", iss.URL, "--auth-tokens-file", tokens, "--jwt-clock-skew", "0s", "--log-level", "debug")
	read := iss.Token(t, jose.RS256, iss.Claims("reader@example.com", "default:read"))
	write := iss.Token(t, jose.ES256, iss.Claims("writer@example.com", "default:write"))
	late := iss.Claims("reader@example.com", "default:read")
	late["exp"] = time.Now().Add(-10 * time.Second).Unix()
	lateTok := iss.Token(t, jose.RS256, late)
	other := iss.Token(t, jose.RS256, iss.Claims("reader@example.com", "billing:admin"))

	marker := "BINARY-OIDC-MARKER-3b7d"
	body := encodeBody(t, marker)
	blobData, digest := blob(t, 4096)
	codecReq := func(op, tok string) int {
		hdr := []string{"Content-Type", "application/json"}
		if tok != "" {
			hdr = append(hdr, "Authorization", "Bearer "+tok)
		}
		status, _ := request(t, "POST", p.url("/codec/default/"+op), bytes.NewReader(body), hdr...)
		return status
	}
	put := func(tok string) int {
		url := p.url("/v1/namespaces/default/blobs/sha256/" + digest)
		status, _ := request(t, "PUT", url, bytes.NewReader(blobData), "Authorization", "Bearer "+tok)
		return status
	}
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"read JWT: decode", codecReq("decode", read), 200},
		{"read JWT: encode", codecReq("encode", read), 403},
		{"read JWT: PUT", put(read), 403},
		{"write JWT: encode", codecReq("encode", write), 200},
		{"write JWT: PUT", put(write), 201},
		{"static token: encode", codecReq("encode", static), 200},
		{"JWT 10s past exp, skew 0s", codecReq("decode", lateTok), 401},
		{"JWT for another namespace", codecReq("decode", other), 403},
		{"no token", codecReq("decode", ""), 401},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, tc.got, tc.want)
		}
	}
	// Refused tokens whose every field carries a marker: none reaches the log.
	hostile := func(edit func(map[string]any)) map[string]any {
		c := iss.Claims("MARK-SUB", "MARK-PERM:read", "default:read")
		edit(c)
		return c
	}
	foreign := oidctest.NewKey(t, "MARK-KID", jose.RS256)
	for _, tok := range []string{
		oidctest.Unsigned(t, "MARK-KID-NONE", hostile(func(c map[string]any) { c["iss"] = "MARK-ISS" })),
		oidctest.Sign(t, foreign, hostile(func(c map[string]any) {})),
		oidctest.HMACWithPublicKey(t, iss.Keys()[0], hostile(func(c map[string]any) {})),
		iss.Token(t, jose.RS256, hostile(func(c map[string]any) { c["aud"] = "MARK-AUD" })),
		iss.Token(t, jose.RS256, hostile(func(c map[string]any) { c["iss"] = "MARK-ISS" })),
		"MARK-OPAQUE-TOKEN-0123456789",
	} {
		if status := codecReq("decode", tok); status != 401 {
			t.Errorf("hostile token: %d, want 401", status)
		}
	}
	_, metrics := request(t, "GET", p.url("/metrics"), nil)
	for _, want := range []string{`payloadsvc_auth_refusals_total{reason="read_only"} 2`, `payloadsvc_auth_refusals_total{reason="expired"} 1`,
		`payloadsvc_auth_refusals_total{reason="namespace"} 1`, `payloadsvc_auth_refusals_total{reason="no_credential"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	logs := p.logs.String()
	for _, re := range []string{
		`msg="payloadsvc: audit" event=allowed .*subject=reader@example.com auth=jwt namespace=default route=decode ` +
			`payloads=1 bytes=\d+ status=200`,
		`msg="payloadsvc: audit" event=allowed .*subject=writer@example.com auth=jwt namespace=default route=encode ` +
			`payloads=1 bytes=\d+ status=200`,
		`msg="payloadsvc: audit" event=allowed .*subject=sha256:[0-9a-f]{8} auth=token namespace=default route=encode`,
		`msg="payloadsvc: audit" event=refused .*reason=expired route=decode namespace=default status=401`,
		`msg="payloadsvc: audit" event=refused .*reason=read_only route=blob namespace=default status=403 subject=reader@example.com`,
		`msg="payloadsvc: accepting JWTs" issuer=` + regexp.QuoteMeta(iss.URL),
	} {
		if !regexp.MustCompile(re).MatchString(logs) {
			t.Errorf("the log has no line matching %s", re)
		}
	}
	secrets := map[string]string{"read JWT": read, "write JWT": write, "late JWT": lateTok, "static token": static, "payload": marker}
	if strings.Contains(logs, "MARK") {
		t.Error("the log quotes a field of a refused token")
	}
	for name, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}
}

// TestBinaryOIDCProxyHeader: --jwks-url without discovery and --jwt-header for a
// proxy's header with the bare JWT.
func TestBinaryOIDCProxyHeader(t *testing.T) {
	iss := oidctest.Start(t)
	p := start(t, nil, "--oidc-issuer", "https://team.cloudflareaccess.example", "--oidc-audience", "aud-tag",
		"--jwks-url", iss.URL+"/keys", "--jwt-header", "Cf-Access-Jwt-Assertion")
	c := iss.Claims("alice@example.com", "default:read")
	c["iss"], c["aud"] = "https://team.cloudflareaccess.example", "aud-tag"
	tok := iss.Token(t, jose.ES256, c)
	status, out := request(t, "POST", p.url("/codec/default/decode"), strings.NewReader(`{"payloads":[]}`),
		"Content-Type", "application/json", "Cf-Access-Jwt-Assertion", tok)
	if status != 200 {
		t.Fatalf("JWT in Cf-Access-Jwt-Assertion: %d %s", status, out)
	}
	if n := iss.Fetches(); n != 1 {
		t.Errorf("%d key set fetches, want 1 (at start)", n)
	}
}

// TestOIDCFlagErrors: the OIDC flags refuse what cannot work, naming the flag; a
// wrong issuer stops the binary at start with the discovery error.
func TestOIDCFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--oidc-issuer", "https://idp.example"}, "--oidc-audience"},
		{[]string{"--oidc-audience", "x"}, "need --oidc-issuer"},
		{[]string{"--jwks-url", "https://idp.example/keys"}, "need --oidc-issuer"},
		{[]string{"--oidc-issuer", "https://idp.example", "--oidc-audience", "x", "--jwt-clock-skew", "-1s"}, "--jwt-clock-skew"},
		{[]string{"--oidc-issuer", "https://idp.example", "--oidc-audience", "x", "--jwt-header", "Bad Header"}, "--jwt-header"},
		{[]string{"--oidc-issuer", "https://idp.example", "--oidc-audience", "x", "--jwt-claim", ""}, "--jwt-claim"},
	} {
		if _, err := parseConfig(tc.args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want one naming %q", tc.args, err, tc.want)
		}
	}
	iss := oidctest.Start(t)
	out, err := exec.Command(binary(t), "--listen", "127.0.0.1:0", "--oidc-issuer", iss.URL+"/wrong", "--oidc-audience", "x").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "discovery") {
		t.Errorf("a wrong issuer: %v %s, want an exit naming discovery", err, out)
	}
}
