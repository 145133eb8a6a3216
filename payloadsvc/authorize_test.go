package payloadsvc

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestScopeNamespaceLayer: the namespace comes from the path, or X-Namespace on a codec
// route without one; a missing or invalid one is 400 and never reaches the layers below
// (nor the log: only "bad namespace").
func TestScopeNamespaceLayer(t *testing.T) {
	for _, tc := range []struct {
		name, path, header string
		want               int
		wantNS             string
	}{
		{"blob path", "/v1/namespaces/orders/blobs/sha256/00", "", statusNext, "orders"},
		{"codec path", "/codec/orders/decode", "ignored", statusNext, "orders"},
		{"codec header", "/codec/decode", "billing", statusNext, "billing"},
		{"codec without one", "/codec/decode", "", 400, ""},
		{"invalid in the path", "/v1/namespaces/a%2Fb/blobs/sha256/00", "", 400, ""},
		{"invalid in the header", "/codec/decode", "bad ns", 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tc.path, nil)
			if tc.header != "" {
				r.Header.Set("X-Namespace", tc.header)
			}
			next := &nextHandler{}
			rec, info := serveLayer(scopeNamespace(next), r)
			if rec.Code != tc.want || info.namespace != tc.wantNS {
				t.Fatalf("status %d, namespace %q; want %d, %q (%s)", rec.Code, info.namespace, tc.want, tc.wantNS, rec.Body)
			}
			said := strings.Contains(rec.Body.String(), "bad namespace") && strings.HasPrefix(info.errMsg, "bad namespace")
			if tc.want == 400 && (next.got != nil || !said) {
				t.Errorf("refusal reached next (%v), or body %s / log message %q do not say bad namespace", next.got != nil, rec.Body, info.errMsg)
			}
		})
	}
}

// TestRequireAuthLayer: the Authorizer decides for the namespace and access (encode and
// PUT write, the rest read); refusals are 401 with WWW-Authenticate, 403, or 503 for an
// authorizer that failed, each counted by reason; whom it admitted is noted for the
// audit line.
func TestRequireAuthLayer(t *testing.T) {
	tokens, err := NewTokenAuthorizer(map[string][]string{tokenDefault: {"default"}})
	if err != nil {
		t.Fatal(err)
	}
	readOnly := AuthorizerFunc(func(r *http.Request, ns string) error { return nil })
	down := AuthorizerFunc(func(r *http.Request, ns string) error { return errors.New("key server down") })
	for _, tc := range []struct {
		name       string
		auth       Authorizer
		method     string
		path, ns   string
		token      string
		want       int
		wantMethod string // requestInfo.authMethod
		wantReason string // the refusal counted
	}{
		{"no authorizer", nil, "POST", "/codec/x/encode", "x", "", statusNext, "none", ""},
		{"token", tokens, "PUT", "/v1/namespaces/default/blobs/sha256/00", "default", tokenDefault, statusNext, "token", ""},
		{"no token", tokens, "GET", "/v1/namespaces/default/blobs/sha256/00", "default", "", 401, "", ReasonNoCredential},
		{"unknown token", tokens, "POST", "/codec/default/decode", "default", "nope-0123456789abcdef", 401, "", ReasonUnknownToken},
		{"other namespace", tokens, "POST", "/codec/other/decode", "other", tokenDefault, 403, "", ReasonNamespace},
		{"custom", readOnly, "POST", "/codec/x/decode", "x", "", statusNext, "custom", ""},
		{"authorizer down", down, "POST", "/codec/x/decode", "x", "", 503, "", ReasonUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, logs := testLog()
			m := testMetrics(t)
			r := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.token != "" {
				r.Header.Set("Authorization", "Bearer "+tc.token)
			}
			layer := scopeNamespace(requireAuth(tc.auth, refusals{log: log, counter: m.authRefusals}, log)(&nextHandler{}))
			rec, info := serveLayer(layer, r)
			if rec.Code != tc.want || info.authMethod != tc.wantMethod || info.namespace != tc.ns {
				t.Fatalf("status %d, auth %q, namespace %q; want %d, %q, %q (%s)",
					rec.Code, info.authMethod, info.namespace, tc.want, tc.wantMethod, tc.ns, rec.Body)
			}
			if tc.wantReason == "" {
				return
			}
			if n := testutil.ToFloat64(m.authRefusals.WithLabelValues(tc.wantReason)); n != 1 {
				t.Errorf("refusals{reason=%q} = %v, want 1", tc.wantReason, n)
			}
			if !strings.Contains(logs.String(), auditMsg) || !strings.Contains(logs.String(), "reason="+tc.wantReason) {
				t.Errorf("no audit line of the refusal:\n%s", logs)
			}
			if (tc.want == 401) != (rec.Header().Get("WWW-Authenticate") != "") {
				t.Errorf("status %d with WWW-Authenticate %q", tc.want, rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}
