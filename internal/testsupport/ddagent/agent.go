// Package ddagent is a wire-level fake Datadog agent for tests: an HTTP server on
// 127.0.0.1 that decodes the msgpack trace payloads a real tracer sends to
// POST /v0.4/traces, answers {"rate_by_service":{}}, and answers 404 to everything else
// (/info included, so the tracer assumes an old agent and turns optional features off).
//
// Tests point the real dd-trace-go tracer at it (tracer.WithAgentAddr(agent.Addr)) and
// wait for conditions on the spans received with [Agent.WaitFor].
package ddagent

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TracesPath is the only endpoint the agent implements. dd-trace-go (v1 shim and v2)
// sends traces in the v0.4 format only.
const TracesPath = "/v0.4/traces"

// Agent is a running fake agent. Its methods are safe for concurrent use.
type Agent struct {
	// Addr is host:port, for tracer.WithAgentAddr.
	Addr string
	// URL is http://host:port, for DD_TRACE_AGENT_URL.
	URL string
	// Flush, when set, is called while WaitFor waits, so spans buffered in the
	// tracer are sent (tests set it to tracer.Flush).
	Flush func()
	// Discard makes the agent read payloads without decoding or keeping them, as a
	// real agent in another process costs the traced process nothing (benchmarks).
	// Only Payloads and Bytes count them.
	Discard atomic.Bool

	srv *http.Server
	ln  net.Listener

	mu       sync.Mutex
	spans    []Span
	payloads int
	bytes    int64 // request bodies of TracesPath, as sent (the tracer does not compress them)
	errs     []error
	changed  chan struct{} // closed and replaced whenever spans arrive
}

// New starts an agent on a random loopback port.
func New() (*Agent, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ddagent: listen: %w", err)
	}
	a := &Agent{
		Addr:    ln.Addr().String(),
		URL:     "http://" + ln.Addr().String(),
		ln:      ln,
		changed: make(chan struct{}),
	}
	a.srv = &http.Server{Handler: http.HandlerFunc(a.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
	return a, nil
}

// Start starts an agent for one test and closes it in t.Cleanup. Payloads that fail to
// decode fail the test.
func Start(t testing.TB) *Agent {
	t.Helper()
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		for _, err := range a.Errors() {
			t.Errorf("ddagent: %v", err)
		}
	})
	return a
}

// Close stops the server.
func (a *Agent) Close() error { return a.srv.Close() }

func (a *Agent) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != TracesPath || (r.Method != http.MethodPost && r.Method != http.MethodPut) {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(r.Body) // payloads are at most a few MB
	a.mu.Lock()
	a.bytes += int64(len(body))
	a.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if a.Discard.Load() {
		a.mu.Lock()
		a.payloads++
		a.mu.Unlock()
		_, _ = w.Write([]byte(`{"rate_by_service":{}}`))
		return
	}
	traces, err := decodeTraces(bytes.NewReader(body))
	if err != nil {
		a.mu.Lock()
		a.errs = append(a.errs, err)
		a.mu.Unlock()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.payloads++
	for _, tr := range traces {
		a.spans = append(a.spans, tr...)
	}
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"rate_by_service":{}}`))
}

// Spans returns a copy of every span received so far, in arrival order.
func (a *Agent) Spans() []Span {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.spans)
}

// Payloads is the number of trace payloads decoded.
func (a *Agent) Payloads() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.payloads
}

// Bytes is the size of every trace payload received so far, decoded or not: what a
// tracer costs in traffic to the agent.
func (a *Agent) Bytes() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bytes
}

// Errors returns the payloads that could not be decoded.
func (a *Agent) Errors() []error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.errs)
}

// Reset forgets the spans received so far.
func (a *Agent) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.spans = nil
}

// WaitFor waits until cond holds for the spans received so far and returns them. It
// fails the test with the spans it saw when timeout passes first. cond is called with a
// copy and may keep it.
func (a *Agent) WaitFor(t testing.TB, timeout time.Duration, cond func([]Span) bool) []Span {
	t.Helper()
	spans, err := a.Wait(timeout, cond)
	if err != nil {
		t.Fatalf("%v\nspans received:\n%s", err, Format(spans))
	}
	return spans
}

// Wait is WaitFor without a testing.TB: it returns an error on timeout.
func (a *Agent) Wait(timeout time.Duration, cond func([]Span) bool) ([]Span, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	// The tracer's Flush is asynchronous for the agent writer, so while waiting we ask
	// again now and then; the wait itself ends on arrival of spans.
	reflush := time.NewTicker(100 * time.Millisecond)
	defer reflush.Stop()
	for {
		a.mu.Lock()
		spans := slices.Clone(a.spans)
		changed := a.changed
		a.mu.Unlock()
		if cond(spans) {
			return spans, nil
		}
		if a.Flush != nil {
			a.Flush()
		}
		select {
		case <-changed:
		case <-reflush.C:
		case <-deadline.C:
			return spans, fmt.Errorf("ddagent: condition not met after %s (%d spans)", timeout, len(spans))
		}
	}
}

// Format renders spans one a line, for failure messages.
func Format(spans []Span) string {
	var b []byte
	for _, s := range spans {
		b = fmt.Appendf(b, "  %s %q span=%d parent=%d trace=%d start=%d dur=%d err=%d meta=%v metrics=%v links=%v\n",
			s.Name, s.Resource, s.SpanID, s.ParentID, s.TraceID, s.Start, s.Duration, s.Error, s.Meta, s.Metrics, s.Links)
	}
	return string(b)
}
