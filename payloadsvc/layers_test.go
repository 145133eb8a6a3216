package payloadsvc

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// The layers are tested one at a time here and in their own files: each under the
// request state the layers above it leave (serveLayer), over a next handler that
// records that it ran.

// serveLayer serves r with h as the stack would below parseRoutes: with a requestInfo
// holding the parsed route. It returns the answer and that requestInfo.
func serveLayer(h http.Handler, r *http.Request) (*httptest.ResponseRecorder, *requestInfo) {
	rt := parseRoute(r.URL.EscapedPath())
	info := &requestInfo{id: "req-1", rt: rt, route: rt.name}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, withRequestInfo(r, info))
	return rec, info
}

// nextHandler is the handler under a layer: it answers 299, so a test tells that the
// layer passed the request on, and keeps the request it got.
type nextHandler struct{ got *http.Request }

const statusNext = 299

func (n *nextHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n.got = r
	w.WriteHeader(statusNext)
}

// testLog is a logger into a buffer, for the lines a layer writes.
func testLog() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// testMetrics are the service's metrics on a registry of their own.
func testMetrics(t *testing.T) *metrics {
	t.Helper()
	m, err := newMetrics(prometheus.NewRegistry(), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}
