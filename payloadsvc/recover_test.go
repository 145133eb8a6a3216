package payloadsvc

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRecoverPanicsLayer: a panic before the answer began is a logged 500; after, the
// connection is aborted (http.ErrAbortHandler), as is a handler's own abort.
func TestRecoverPanicsLayer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		next      http.HandlerFunc
		want      int  // the status written, 0 when the layer re-panics before writing one
		wantAbort bool // the layer panics with http.ErrAbortHandler
		wantLog   bool
	}{
		{"no panic", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(statusNext) }, statusNext, false, false},
		{"panic before the answer", func(w http.ResponseWriter, r *http.Request) { panic("boom") }, 500, false, true},
		{"panic mid-answer", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			_, _ = w.Write([]byte("partial"))
			panic("boom")
		}, 200, true, true},
		{"abort", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) }, 0, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, logs := testLog()
			var rec *httptest.ResponseRecorder
			aborted := func() (aborted bool) {
				defer func() {
					p := recover()
					aborted = p == http.ErrAbortHandler //nolint:errorlint // the sentinel itself
					if p != nil && !aborted {
						t.Errorf("panicked with %v", p)
					}
				}()
				rec = httptest.NewRecorder()
				r := withRequestInfo(httptest.NewRequest("GET", "/healthz", nil), &requestInfo{id: "req-1"})
				recoverPanics(log)(tc.next).ServeHTTP(rec, r)
				return false
			}()
			if aborted != tc.wantAbort || (tc.want != 0 && rec.Code != tc.want) {
				t.Fatalf("aborted %v, status %d; want %v, %d", aborted, rec.Code, tc.wantAbort, tc.want)
			}
			logged := strings.Contains(logs.String(), "panic serving a request")
			if logged != tc.wantLog || (logged && !strings.Contains(logs.String(), "stack=")) {
				t.Errorf("logged %v, want %v, with the stack:\n%s", logged, tc.wantLog, logs)
			}
			if tc.want == 500 && !strings.Contains(rec.Body.String(), `"requestId":"req-1"`) {
				t.Errorf("500 body %s lacks the request id", rec.Body)
			}
		})
	}
}
