package testenv

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"
)

// FaultProxy is a loopback reverse proxy in front of a storage emulator that lets a test
// answer, delay, cut or observe each request. The Host header is kept, so signatures
// over it stay valid.
type FaultProxy struct {
	URL string

	target *url.URL
	name   func(*http.Request) string
	mu     sync.Mutex
	ops    []string
	hook   FaultHook
}

// FaultHook sees a request, named by the proxy's name function, before it is forwarded.
// It may wrap r.Body (the request is then forwarded) or answer the request itself
// (Fail, CutResponse, or anything else) and return true.
type FaultHook func(w http.ResponseWriter, r *http.Request, op string) bool

// NewFaultProxy starts a proxy to target, stopped in t.Cleanup. name names a request's
// operation for hooks and Count; hook, if not nil, sees each request first.
func NewFaultProxy(t testing.TB, target string, name func(*http.Request) string, hook FaultHook) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{target: u, name: name, hook: hook}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = nil
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := name(r)
		p.mu.Lock()
		p.ops = append(p.ops, op)
		hook := p.hook
		p.mu.Unlock()
		if hook != nil && hook(w, r, op) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Count returns how many requests of op the proxy has seen.
func (p *FaultProxy) Count(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, o := range p.ops {
		if o == op {
			n++
		}
	}
	return n
}

// Ops returns the operations of the requests the proxy has seen, in order.
func (p *FaultProxy) Ops() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ops)
}

// Fail answers the request with status and body, after reading the request body.
func Fail(w http.ResponseWriter, r *http.Request, status int, contentType, body string) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// ForwardUntil forwards a request without a body, asking the target again while again
// says so of its answer (an emulator's own transient failure, which the real server does
// not have) and the deadline allows, and copies the last answer back.
func (p *FaultProxy) ForwardUntil(w http.ResponseWriter, r *http.Request, again func(*http.Response) bool, within time.Duration) {
	deadline := time.Now().Add(within)
	for {
		out := r.Clone(r.Context())
		out.URL.Scheme, out.URL.Host, out.RequestURI = p.target.Scheme, p.target.Host, ""
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if again(resp) && time.Now().Before(deadline) && r.Context().Err() == nil {
			resp.Body.Close()
			time.Sleep(10 * time.Millisecond)
			continue
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		return
	}
}

// CutResponse forwards the request, sends the response's status, headers (its full
// Content-Length included) and first `after` body bytes, then drops the connection: a
// body broken off mid-way.
func (p *FaultProxy) CutResponse(w http.ResponseWriter, r *http.Request, after int64) {
	resp := p.relay(w, r)
	defer resp.Body.Close()
	_, _ = io.CopyN(w, resp.Body, after)
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler) // net/http closes the connection without finishing the body
}

// relay sends r to the target and writes the answer's status and headers; the caller
// sends (some of) its body.
func (p *FaultProxy) relay(w http.ResponseWriter, r *http.Request) *http.Response {
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host, out.RequestURI = p.target.Scheme, p.target.Host, ""
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	return resp
}

// Delay holds a request for d (or until the client gives up) before it is forwarded:
// a slow server.
func Delay(r *http.Request, d time.Duration) {
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

// FlipByte is a request body that inverts the byte at offset At: a body corrupted on
// the way.
type FlipByte struct {
	R   io.ReadCloser
	At  int64
	off int64
}

func (f *FlipByte) Read(p []byte) (int, error) {
	n, err := f.R.Read(p)
	if f.At >= f.off && f.At < f.off+int64(n) {
		p[f.At-f.off] ^= 0xff
	}
	f.off += int64(n)
	return n, err
}

func (f *FlipByte) Close() error { return f.R.Close() }
