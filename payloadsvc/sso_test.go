package payloadsvc

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/oidctest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestSSORequestShape replays what the Temporal UI sends with codec.passAccessToken
// and includeCredentials: a credentialed preflight from its origin asking for
// Authorization and Authorization-Extras, then the POST with the access token and the
// ID token. The answers name the exact origin with Allow-Credentials (never "*"); the
// decode, the preview's download and a refusal each leave one audit line; and no log
// line, at debug level, holds a token or a byte of the payload.
func TestSSORequestShape(t *testing.T) {
	const uiOrigin = "http://localhost:8233"
	iss := oidctest.Start(t)
	logs := &testenv.SyncBuffer{}
	svc := oidcService(t, iss, OIDCOptions{}, Options{
		CORSOrigins:  []string{uiOrigin},
		PreviewBytes: 1 << 10,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	svc.logs = logs
	access := iss.Token(t, jose.RS256, iss.Claims("alice@example.com", "default:read"))
	idToken := iss.Token(t, jose.ES256, iss.Claims("alice@example.com"))

	status, hdr, _ := svc.do(t, "OPTIONS", "/codec/decode", nil, map[string]string{
		"Origin": uiOrigin, "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "authorization,authorization-extras,content-type,x-namespace",
	})
	if status != http.StatusNoContent {
		t.Fatalf("credentialed preflight from the UI: %d, want 204", status)
	}
	checkCredentialedCORS(t, "preflight", hdr, uiOrigin)
	allowed := strings.ToLower(hdr.Get("Access-Control-Allow-Headers"))
	for _, h := range []string{"authorization", "authorization-extras", "content-type", "x-namespace"} {
		if !strings.Contains(allowed, h) {
			t.Errorf("preflight Allow-Headers %q lacks %s", allowed, h)
		}
	}

	// The payload: offloaded by a worker, 4 KiB with a marker, over the preview size.
	marker := "SSO-PAYLOAD-MARKER-91c2"
	c, err := codec.New(svc.store, codec.Options{Namespace: "default", Threshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := c.Offload(context.Background(), jsonPayload(t, marker+strings.Repeat(" data", 800)))
	if err != nil {
		t.Fatal(err)
	}
	status, hdr, body := svc.do(t, "POST", "/codec/decode", payloadsJSON(t, ref), map[string]string{
		"Origin": uiOrigin, "X-Namespace": "default",
		"Authorization": "Bearer " + access, "Authorization-Extras": idToken,
	})
	if status != 200 {
		t.Fatalf("decode with the UI's headers: %d %s", status, short(body))
	}
	checkCredentialedCORS(t, "decode", hdr, uiOrigin)
	var out commonpb.Payloads
	if err := unmarshalPayloads.Unmarshal(body, &out); err != nil || len(out.Payloads) != 1 {
		t.Fatalf("decode answer: %v %s", err, short(body))
	}
	var pw previewWrapper
	if err := json.Unmarshal(out.Payloads[0].Data, &pw); err != nil || !strings.Contains(pw.Preview.Head, marker) {
		t.Fatalf("the UI got no preview: %v %s", err, short(out.Payloads[0].Data))
	}
	decodeLine := auditLine(t, svc, "event=allowed", "route=decode", `subject=alice@example.com`, "auth=jwt",
		"namespace=default", "payloads=1")
	if !strings.Contains(decodeLine, "bytes=") || strings.Contains(decodeLine, "bytes=0 ") {
		t.Errorf("decode audit line without the bytes: %s", decodeLine)
	}

	// The preview's link, opened in a new tab: no token, the subject it was made for.
	link, err := url.Parse(pw.Preview.Download)
	if err != nil {
		t.Fatal(err)
	}
	status, _, data := svc.do(t, "GET", link.RequestURI(), nil, nil)
	if status != 200 || !strings.Contains(string(data), marker) {
		t.Fatalf("download: %d %s", status, short(data))
	}
	auditLine(t, svc, "event=allowed", "route=download", "subject=alice@example.com", "auth=link", "payloads=1")
	forged := strings.Replace(link.RequestURI(), "sub=alice", "sub=mallory", 1)
	if status, _, _ := svc.do(t, "GET", forged, nil, nil); status != 403 {
		t.Errorf("download link with another subject: %d, want 403 (the subject is signed)", status)
	}
	auditLine(t, svc, "event=refused", "route=download", "reason="+ReasonBadSignature)

	// A refusal still carries the CORS headers, so the UI can show why.
	expired := iss.Claims("alice@example.com", "default:read")
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	expiredTok := iss.Token(t, jose.RS256, expired)
	status, hdr, _ = svc.do(t, "POST", "/codec/decode", payloadsJSON(t, ref), map[string]string{
		"Origin": uiOrigin, "X-Namespace": "default", "Authorization": "Bearer " + expiredTok, "Authorization-Extras": idToken,
	})
	if status != 401 {
		t.Fatalf("expired token: %d, want 401", status)
	}
	checkCredentialedCORS(t, "refusal", hdr, uiOrigin)
	auditLine(t, svc, "event=refused", "reason="+ReasonExpired, "route=decode", "namespace=default", "origin="+uiOrigin)

	// Another origin: refused preflight, no CORS headers on the POST.
	status, hdr, _ = svc.do(t, "OPTIONS", "/codec/decode", nil, map[string]string{
		"Origin": "http://evil.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization",
	})
	if status != 403 || hdr.Get("Access-Control-Allow-Origin") != "" || hdr.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("preflight from another origin: %d, Allow-Origin %q; want 403 without CORS headers",
			status, hdr.Get("Access-Control-Allow-Origin"))
	}

	logText := logs.String()
	for name, secret := range map[string]string{
		"access token": access, "ID token": idToken, "expired token": expiredTok, "payload marker": marker,
		"token signature": access[strings.LastIndex(access, ".")+1:], "link signature": link.Query().Get("sig"),
	} {
		if strings.Contains(logText, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}
	if strings.Contains(logText, "Bearer ") {
		t.Error("the log quotes an Authorization header")
	}
	if t.Failed() {
		t.Logf("log:\n%s", logText)
	}
}

// checkCredentialedCORS: the exact origin and Allow-Credentials, as browsers require
// for a request with credentials, and Vary: Origin for caches.
func checkCredentialedCORS(t *testing.T, what string, hdr http.Header, origin string) {
	t.Helper()
	if got := hdr.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("%s: Allow-Origin %q, want exactly %q (never *)", what, got, origin)
	}
	if got := hdr.Get("Access-Control-Allow-Credentials"); got != "true" {
		t.Errorf("%s: Allow-Credentials %q, want true", what, got)
	}
	if !contains(hdr.Values("Vary"), "Origin") {
		t.Errorf("%s: Vary %q lacks Origin", what, hdr.Values("Vary"))
	}
}
