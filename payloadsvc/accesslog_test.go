package payloadsvc

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestAccessLogLayer: every request gets an id (X-Request-Id) and one access-log line
// with what the layers below noted (route, namespace, error), at debug level for probes
// and dedupe misses; the metrics count it by route, method and status, and its bytes;
// a panic below recoverPanics is logged as its 500.
func TestAccessLogLayer(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, body string
		next                     http.HandlerFunc
		wantStatus               string
		wantLevel                string
		wantAttrs                []string
	}{
		{"blob read", "GET", "/v1/namespaces/default/blobs/sha256/00", "", func(w http.ResponseWriter, r *http.Request) {
			requestInfoFrom(r.Context()).route, requestInfoFrom(r.Context()).namespace = routeBlob, "default"
			_, _ = io.WriteString(w, "hello")
		}, "200", "INFO", []string{"route=blob", "namespace=default", "bytes_out=5", "status=200"}},
		{"decode with body", "POST", "/codec/default/decode", `{"payloads":[]}`, func(w http.ResponseWriter, r *http.Request) {
			requestInfoFrom(r.Context()).route = routeDecode
			_, _ = io.ReadAll(r.Body)
			writeError(w, r, http.StatusBadRequest, "bad thing")
		}, "400", "INFO", []string{"route=decode", "bytes_in=15", `error="bad thing"`, "status=400"}},
		{"probe", "GET", "/healthz", "", func(w http.ResponseWriter, r *http.Request) {
			requestInfoFrom(r.Context()).route = routeHealthz
		}, "200", "DEBUG", []string{"route=healthz"}},
		{"dedupe miss", "HEAD", "/v1/namespaces/default/blobs/sha256/00", "", func(w http.ResponseWriter, r *http.Request) {
			requestInfoFrom(r.Context()).route = routeBlob
			w.WriteHeader(http.StatusNotFound)
		}, "404", "DEBUG", []string{"route=blob", "status=404"}},
		{"panic", "GET", "/readyz", "", func(w http.ResponseWriter, r *http.Request) { panic("boom") }, "500", "INFO",
			[]string{"route=unknown", "status=500", `error="internal error"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, logs := testLog()
			m := testMetrics(t)
			h := stack(tc.next, logRequests(log, m), recoverPanics(log))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
			id := rec.Header().Get("X-Request-Id")
			var line string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, `msg="payloadsvc: request"`) {
					line = l
				}
			}
			if id == "" || !strings.Contains(line, "request_id="+id) || !strings.Contains(line, "level="+tc.wantLevel) {
				t.Fatalf("X-Request-Id %q; want it in an access line at %s:\n%s", id, tc.wantLevel, logs)
			}
			for _, want := range tc.wantAttrs {
				if !strings.Contains(line, want) {
					t.Errorf("access line lacks %s:\n%s", want, line)
				}
			}
			route := strings.TrimPrefix(tc.wantAttrs[0], "route=")
			if n := testutil.ToFloat64(m.requests.WithLabelValues(route, tc.method, tc.wantStatus)); n != 1 {
				t.Errorf("requests{%s,%s,%s} = %v, want 1", route, tc.method, tc.wantStatus, n)
			}
			if n := testutil.ToFloat64(m.inFlight); n != 0 {
				t.Errorf("in flight after the request: %v", n)
			}
		})
	}
}
