package drivertest

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// CorruptCase is an upload CorruptedBodyRejected corrupts.
type CorruptCase struct {
	Name string
	Op   string // the upload request
	Size int
	// At is which Op request (from 1) is corrupted, and how many reach the server:
	// parts go one at a time, and none is sent after the rejected one.
	At int
}

// CorruptedBodyRejected flips one byte of an upload on its way to the server: the
// service rejects the body against the checksum the store sent, the Put fails without
// resending it, and no object is visible (nor, where List shows them, parts left
// behind).
func CorruptedBodyRejected(t *testing.T, d Driver) {
	for _, tc := range d.CorruptCases {
		t.Run(tc.Name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			var reqs atomic.Int64
			fp := d.putThrough(ctx, t, Options{PartSize: 1 << 20, Concurrency: 1, Retry: d.retry()}, tc.Size,
				func(w http.ResponseWriter, r *http.Request, op string) bool {
					if op == tc.Op && reqs.Add(1) == int64(tc.At) {
						r.Body = &testenv.FlipByte{R: r.Body, At: 12345}
					}
					return false
				})
			p, s, key := fp.proxy, fp.store, fp.key
			if !d.Rejected(fp.err) || !driver.IsPermanent(fp.err) {
				t.Fatalf("Put of a corrupted body: err = %v, want a permanent rejection of the body", fp.err)
			}
			if got := p.Count(tc.Op); got != tc.At {
				t.Errorf("server saw %d %s requests, want %d (a rejected body is not resent)", got, tc.Op, tc.At)
			}
			if d.CommitOp != "" && p.Count(d.CommitOp) != 0 {
				t.Errorf("%s sent after a rejected upload", d.CommitOp)
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, driver.ErrNotFound) {
				t.Errorf("Get after rejected upload: %v, want ErrNotFound", err)
			}
			if left := s.List(t, ctx); len(left) != 0 {
				t.Errorf("objects left after a rejected upload: %v", left)
			}
		})
	}
}
