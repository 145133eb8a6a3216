package s3store_test

import (
	"net/http"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// faultProxy is a testenv.FaultProxy in front of versitygw that names requests by their
// S3 operation. SigV4 survives it: the Host header is kept.
type faultProxy struct{ *testenv.FaultProxy }

type hookFunc = testenv.FaultHook

// newFaultProxy starts a proxy to target; hook, if not nil, sees each request first.
func newFaultProxy(t testing.TB, target string, hook hookFunc) *faultProxy {
	t.Helper()
	return &faultProxy{testenv.NewFaultProxy(t, target, s3Op, hook)}
}

// count returns how many requests of op the proxy has seen.
func (p *faultProxy) count(op string) int { return p.Count(op) }

// s3Op names the S3 operation of a path-style request.
func s3Op(r *http.Request) string {
	q := r.URL.Query()
	copySrc := r.Header.Get("X-Amz-Copy-Source") != ""
	switch {
	case r.Method == http.MethodHead:
		return "HeadObject"
	case r.Method == http.MethodGet && q.Has("uploads"):
		return "ListMultipartUploads"
	case r.Method == http.MethodGet && q.Has("uploadId"):
		return "ListParts"
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
	testenv.Fail(w, r, http.StatusServiceUnavailable, "application/xml", `<?xml version="1.0" encoding="UTF-8"?>`+
		`<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
}
