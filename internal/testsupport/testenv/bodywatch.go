package testenv

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
)

// BodyWatch is a FaultProxy that shows each request of some operations, body read in
// full, to a check before forwarding it unchanged, and keeps what the check reports:
// a test of what a client puts on the wire (checksum headers, upload metadata).
type BodyWatch struct {
	*FaultProxy
	mu       sync.Mutex
	problems []error
}

// NewBodyWatch starts a BodyWatch to target, stopped in t.Cleanup. name names a
// request's operation; check sees the requests of ops and returns what is wrong with
// one, or nil.
func NewBodyWatch(t testing.TB, target string, name func(*http.Request) string, ops []string,
	check func(op string, r *http.Request, body []byte) error) *BodyWatch {
	t.Helper()
	w := &BodyWatch{}
	w.FaultProxy = NewFaultProxy(t, target, name, func(_ http.ResponseWriter, r *http.Request, op string) bool {
		if !slices.Contains(ops, op) {
			return false
		}
		body, err := io.ReadAll(r.Body)
		if err == nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			err = check(op, r, body)
		}
		if err != nil {
			w.mu.Lock()
			w.problems = append(w.problems, fmt.Errorf("%s: %w", op, err))
			w.mu.Unlock()
		}
		return false
	})
	return w
}

// Problems returns what the check reported, in the order of the requests.
func (w *BodyWatch) Problems() []error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.problems)
}
