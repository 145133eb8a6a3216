package s3store_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// faultProxy is a loopback reverse proxy in front of versitygw that lets a test answer,
// alter or observe each S3 request. SigV4 survives it: the Host header is kept.
type faultProxy struct {
	URL string

	mu   sync.Mutex
	ops  []string
	hook hookFunc
}

// hookFunc sees a request before it is forwarded. It may wrap r.Body (the request is
// then forwarded) or answer the request itself and return true.
type hookFunc func(w http.ResponseWriter, r *http.Request, op string) bool

// newFaultProxy starts a proxy to target; hook, if not nil, sees each request first.
func newFaultProxy(t testing.TB, target string, hook hookFunc) *faultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{hook: hook}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = nil
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := s3Op(r)
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

// count returns how many requests of op the proxy has seen.
func (p *faultProxy) count(op string) int {
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

// s3Op names the S3 operation of a path-style request.
func s3Op(r *http.Request) string {
	q := r.URL.Query()
	copySrc := r.Header.Get("X-Amz-Copy-Source") != ""
	switch {
	case r.Method == http.MethodHead:
		return "HeadObject"
	case r.Method == http.MethodGet && q.Has("uploads"):
		return "ListMultipartUploads"
	case r.Method == http.MethodGet:
		return "GetObject"
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		return "AbortMultipartUpload"
	case r.Method == http.MethodPut && q.Has("partNumber") && copySrc:
		return "UploadPartCopy"
	case r.Method == http.MethodPut && q.Has("partNumber"):
		return "UploadPart"
	case r.Method == http.MethodPut && copySrc:
		return "CopyObject"
	case r.Method == http.MethodPut:
		return "PutObject"
	}
	return r.Method
}

// slowDown answers like S3 under load: 503 SlowDown.
func slowDown(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+
		`<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
}

// flipByte is a request body that inverts the byte at offset at.
type flipByte struct {
	r   io.ReadCloser
	at  int64
	off int64
}

func (f *flipByte) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if f.at >= f.off && f.at < f.off+int64(n) {
		p[f.at-f.off] ^= 0xff
	}
	f.off += int64(n)
	return n, err
}

func (f *flipByte) Close() error { return f.r.Close() }
