package drivertest

import (
	"bytes"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// GetSurvivesFaults reads a 5 MiB object in 1 MiB ranges through a Busy answer, bodies
// cut off mid-way (the stream and the ranges) and a response slower than
// AttemptTimeout: every byte arrives and each faulted request is sent again.
func GetSurvivesFaults(t *testing.T, d Driver) {
	for _, tc := range []struct {
		name  string
		fault func(p *testenv.FaultProxy, w http.ResponseWriter, r *http.Request) bool
	}{
		{"503", func(_ *testenv.FaultProxy, w http.ResponseWriter, r *http.Request) bool {
			d.Busy(w, r)
			return true
		}},
		{"CutBody", func(p *testenv.FaultProxy, w http.ResponseWriter, r *http.Request) bool {
			p.CutResponse(w, r, 100<<10)
			return true
		}},
		{"Slow", func(_ *testenv.FaultProxy, w http.ResponseWriter, r *http.Request) bool {
			testenv.Delay(r, 5*time.Second)
			return false
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			b, key := blob(t, 5<<20)
			if _, err := d.NewStore(t, "", Options{Prefix: "faults-" + tc.name}).Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatal(err)
			}
			// Fault the first read (the stream) and the third (a range).
			var reads atomic.Int64
			var p *testenv.FaultProxy
			p = testenv.NewFaultProxy(t, d.Endpoint, d.Op, func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op == d.ReadOp {
					if i := reads.Add(1); i == 1 || i == 3 {
						return tc.fault(p, w, r)
					}
				}
				return false
			})
			s := d.NewStore(t, p.URL, Options{Prefix: "faults-" + tc.name, PartSize: 1 << 20,
				Retry: d.retry(), AttemptTimeout: time.Second})
			// (The stream is bounded by the Get context only: a slow first response is
			// waited for, a slow range is retried after AttemptTimeout.)
			storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, s, key), b)
			want := 5 + 2 // the stream, 4 ranges, and the faulted ones again
			if tc.name == "Slow" {
				want-- // the slow stream is waited for
			}
			if got := p.Count(d.ReadOp); got < want {
				t.Errorf("server saw %d reads, want at least %d", got, want)
			}
			// A cut body the client re-opens itself is not a retry of the store's.
			uncounted := d.ClientResumesCutBody && tc.name == "CutBody"
			if st := s.Stats(); (!uncounted && st.Retries < 1) || st.BytesDown < int64(len(b)) {
				t.Errorf("Stats() = %+v, want a retry or resume and all bytes down", st)
			}
		})
	}
}
