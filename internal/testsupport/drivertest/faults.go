package drivertest

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// RetryCase is one kind of request RetryOn5xx answers with Busy.
type RetryCase struct {
	Name string
	Op   string // requests answered Busy; "" = any
	Size int
	// WantParts counts the Driver.PartOp requests that reach the server when none
	// fails; each failed one is sent again on its own.
	WantParts int
}

// RetryOn5xx answers the first 3 requests of one kind with Busy: the Put succeeds and
// creates the blob, the store counts exactly 3 retries, and a failed part is resent
// alone, not the whole blob.
func RetryOn5xx(t *testing.T, d Driver) {
	const n = 3
	for _, tc := range d.RetryCases {
		t.Run(tc.Name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			var failed atomic.Int64
			fp := d.putThrough(ctx, t, Options{PartSize: d.PartSize, Retry: d.retry()}, tc.Size,
				func(w http.ResponseWriter, r *http.Request, op string) bool {
					if (tc.Op == "" || op == tc.Op) && failed.Add(1) <= n {
						d.Busy(w, r)
						return true
					}
					return false
				})
			p, s, key, b := fp.proxy, fp.store, fp.key, fp.blob
			if fp.err != nil || !fp.created {
				t.Fatalf("Put through %d 503s = %v, %v", n, fp.created, fp.err)
			}
			st := s.Stats()
			if st.Retries != n || st.Puts != 1 || st.BytesUp != int64(tc.Size) {
				t.Errorf("Stats() = %+v, want Retries %d, Puts 1, BytesUp %d", st, n, tc.Size)
			}
			extra := 0
			if tc.Op == d.PartOp {
				extra = n
			}
			if got := p.Count(d.PartOp); got != tc.WantParts+extra {
				t.Errorf("server saw %d %s requests, want %d (each failed part resent alone)", got, d.PartOp, tc.WantParts+extra)
			}
			storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, s, key), b)
		})
	}
}

// RetriesSpentArePermanent: when the store gives up, the error is permanent (so codec's
// wrapper does not retry it again); a 403 is not retried at all.
func RetriesSpentArePermanent(t *testing.T, d Driver) {
	for _, tc := range []struct {
		name        string
		answer      func(w http.ResponseWriter, r *http.Request)
		wantRetries int64
	}{
		{"Always" + d.BusyName, d.Busy, 3},
		{"Forbidden", d.Forbidden, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			policy := d.retry()
			policy.MaxAttempts = 4
			fp := d.putThrough(ctx, t, Options{Retry: policy}, 1000, func(w http.ResponseWriter, r *http.Request, op string) bool {
				tc.answer(w, r)
				return true
			})
			s, key := fp.store, fp.key
			if fp.err == nil || !driver.IsPermanent(fp.err) {
				t.Fatalf("Put error = %v, want a permanent error", fp.err)
			}
			if got := s.Stats().Retries; got != tc.wantRetries {
				t.Errorf("Stats().Retries = %d, want %d", got, tc.wantRetries)
			}
			if _, err := s.Get(ctx, key); err == nil || !driver.IsPermanent(err) || errors.Is(err, driver.ErrNotFound) {
				t.Errorf("Get error = %v, want permanent, not ErrNotFound", err)
			}
		})
	}
}

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
