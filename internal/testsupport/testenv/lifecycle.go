package testenv

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// LifecycleProxy is an S3 endpoint in front of versitygw that keeps each bucket's
// lifecycle configuration itself and forwards every other request. versitygw v1.8.0
// answers Put/Get/DeleteBucketLifecycleConfiguration with NotImplemented (its router
// sends them to an error route), so a test that needs real rules to be read back puts
// them with PutBucketLifecycleConfiguration through this proxy: the S3 client parses the
// exact XML it sent, as from AWS. Requests are not authenticated by the proxy.
func LifecycleProxy(t testing.TB, s *S3Server) *FaultProxy {
	t.Helper()
	var mu sync.Mutex
	configs := map[string][]byte{} // by bucket path
	hook := func(w http.ResponseWriter, r *http.Request, op string) bool {
		if op != "lifecycle" {
			return false
		}
		bucket := strings.Trim(r.URL.Path, "/")
		mu.Lock()
		defer mu.Unlock()
		switch r.Method {
		case http.MethodPut:
			body, err := io.ReadAll(r.Body)
			if err != nil {
				Fail(w, r, http.StatusBadRequest, "text/plain", err.Error())
				return true
			}
			configs[bucket] = body
			w.WriteHeader(http.StatusOK)
		case http.MethodDelete:
			delete(configs, bucket)
			w.WriteHeader(http.StatusNoContent)
		case http.MethodGet:
			body, ok := configs[bucket]
			if !ok {
				Fail(w, r, http.StatusNotFound, "application/xml",
					"<Error><Code>NoSuchLifecycleConfiguration</Code><Message>The lifecycle configuration does not exist</Message></Error>")
				return true
			}
			w.Header().Set("Content-Type", "application/xml")
			_, _ = w.Write(body)
		default:
			Fail(w, r, http.StatusMethodNotAllowed, "text/plain", r.Method)
		}
		return true
	}
	name := func(r *http.Request) string {
		if _, ok := r.URL.Query()["lifecycle"]; ok {
			return "lifecycle"
		}
		return r.Method
	}
	return NewFaultProxy(t, s.Endpoint, name, hook)
}
