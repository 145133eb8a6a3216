package uitest

import (
	"context"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/oidctest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
)

// ssoPage calls the codec server the way the Temporal UI does with
// codec.passAccessToken and codec.includeCredentials: a credentialed fetch carrying
// the access token in Authorization and the ID token in Authorization-Extras, so the
// browser sends a preflight first and enforces the CORS answer itself.
var ssoPage = template.Must(template.New("sso").Parse(`<!doctype html>
<title>sso</title><pre id="out">waiting</pre>
<script>
(async () => {
  const out = document.getElementById('out');
  try {
    const r = await fetch({{.Endpoint}}, {
      method: 'POST', credentials: 'include',
      headers: {'Content-Type': 'application/json', 'X-Namespace': 'default',
                'Authorization': 'Bearer ' + {{.Access}}, 'Authorization-Extras': {{.ID}}},
      body: {{.Body}},
    });
    const j = await r.json();
    out.textContent = 'STATUS ' + r.status + ' ' + (r.ok ? atob(j.payloads[0].data) : j.error);
  } catch (e) {
    out.textContent = 'FETCH FAILED ' + e;
  }
})();
</script>`))

// TestSSOBrowserCORS: headless Chromium, from the UI's origin, decodes an offloaded
// payload with a JWT (the browser accepts the credentialed CORS answers); a JWT for
// another namespace gets a 403 the page can read; from an origin not allowed the
// browser itself blocks the call.
func TestSSOBrowserCORS(t *testing.T) {
	b := requireBrowser(t)
	iss := oidctest.Start(t)
	store := memstore.New()
	c, err := codec.New(store, codec.Options{Namespace: "default", Threshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	marker := "SSO-BROWSER-MARKER-44d1"
	ref, err := c.Offload(context.Background(), mustPayload(t, marker))
	if err != nil {
		t.Fatal(err)
	}
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{ref}})
	if err != nil {
		t.Fatal(err)
	}
	access := iss.Token(t, jose.RS256, iss.Claims("alice@example.com", "default:read"))
	other := iss.Token(t, jose.ES256, iss.Claims("bob@example.com", "billing:read"))
	idToken := iss.Token(t, jose.ES256, iss.Claims("alice@example.com"))

	type pageData struct{ Endpoint, Access, ID, Body string }
	var (
		pageMu sync.Mutex // the browser may still ask for the last page while the next is set
		page   pageData
	)
	ui := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pageMu.Lock()
		p := page
		pageMu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = ssoPage.Execute(w, p)
	}))
	t.Cleanup(ui.Close)
	serve := func(origin string) (string, *testenv.SyncBuffer) {
		logs := &testenv.SyncBuffer{}
		log := slog.New(slog.NewTextHandler(logs, nil))
		a, err := payloadsvc.NewOIDCAuthorizer(context.Background(),
			payloadsvc.OIDCOptions{Issuer: iss.URL, Audiences: []string{oidctest.Audience}, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		h, err := payloadsvc.NewHandler(store, payloadsvc.Options{Authorizer: a, CORSOrigins: []string{origin}, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL, logs
	}
	svcURL, logs := serve(ui.URL)
	open := func(name, endpoint, token string, want ...string) seen {
		t.Helper()
		pageMu.Lock()
		page = pageData{Endpoint: endpoint + "/codec/decode", Access: token, ID: idToken, Body: string(body)}
		pageMu.Unlock()
		s := b.open(t, pageSpec(t, ui.URL, want))
		if !s.Found {
			t.Errorf("%s: the page does not show %q %s", name, want, s.describe())
		}
		return s
	}
	open("read JWT from the UI's origin", svcURL, access, "STATUS 200", marker)
	open("JWT for another namespace", svcURL, other, "STATUS 403", "grants nothing in namespace")
	for _, want := range []string{"CORS preflight allowed", `event=allowed`, "subject=alice@example.com", "reason=namespace"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the service log lacks %q:\n%s", want, logs.String())
		}
	}
	elsewhere, otherLogs := serve("http://ui.other.example")
	open("origin not allowed", elsewhere, access, "FETCH FAILED")
	if strings.Contains(otherLogs.String(), "event=allowed") {
		t.Errorf("a decode ran for an origin that is not allowed:\n%s", otherLogs.String())
	}
	for _, secret := range []string{access, other, idToken} {
		if strings.Contains(logs.String()+otherLogs.String(), secret) {
			t.Error("a service log holds a token")
		}
	}
}

// pageSpec waits for want, giving up early on an outcome want does not expect.
func pageSpec(t *testing.T, url string, want []string) page {
	var stop []string
	for _, s := range []string{"FETCH FAILED", "STATUS 2", "STATUS 4", "STATUS 5"} {
		if !strings.HasPrefix(want[0], s) {
			stop = append(stop, s)
		}
	}
	return page{URL: url, Want: want, StopOn: stop, Screenshot: screenshotPath(t), Timeout: time.Minute}
}

func mustPayload(t *testing.T, s string) *commonpb.Payload {
	t.Helper()
	data, err := json.Marshal(s + strings.Repeat(" text", 100))
	if err != nil {
		t.Fatal(err)
	}
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: data}
}
