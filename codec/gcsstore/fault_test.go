package gcsstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/api/googleapi"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/gcsstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testenv"
)

// fastRetry keeps fault tests quick: millisecond backoffs, bounded by time.
var fastRetry = codec.RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: 20 * time.Millisecond, MaxElapsed: 20 * time.Second}

// gcsOp names a JSON API request.
func gcsOp(r *http.Request) string {
	switch {
	case strings.HasPrefix(r.URL.Path, "/upload/"):
		return "upload"
	case strings.HasSuffix(r.URL.Path, "/compose"):
		return "compose"
	case r.Method == http.MethodGet && r.URL.Query().Get("alt") == "media":
		return "read"
	}
	return r.Method
}

func unavailable(w http.ResponseWriter, r *http.Request) {
	testenv.Fail(w, r, http.StatusServiceUnavailable, "application/json",
		`{"error":{"code":503,"message":"try again"}}`)
}

// TestRetryOn5xx answers the first N requests of one kind with 503: the operation
// succeeds, the store counts exactly N retries, and a failed part is resent alone.
func TestRetryOn5xx(t *testing.T) {
	srv := server(t)
	const n = 3
	for _, tc := range []struct {
		name        string
		op          string // requests answered 503; "" = any
		size        int
		wantUploads int // upload requests that reached the server
	}{
		{"AnyRequestSingleUpload", "", 1 << 20, 1},
		{"Attrs", "GET", 1 << 20, 1},
		{"Upload", "upload", 1 << 20, 1},
		{"PartUpload", "upload", 3 << 20, 3},
		{"Compose", "compose", 3 << 20, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			var failed atomic.Int64
			p := testenv.NewFaultProxy(t, srv.Endpoint, gcsOp, func(w http.ResponseWriter, r *http.Request, op string) bool {
				if (tc.op == "" || op == tc.op) && failed.Add(1) <= n {
					unavailable(w, r)
					return true
				}
				return false
			})
			s := newStore(t, srv, p.URL, gcsstore.Options{PartSize: 1 << 20, Retry: fastRetry})
			b, key := blob(t, tc.size)
			if created, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil || !created {
				t.Fatalf("Put through %d 503s = %v, %v", n, created, err)
			}
			st := s.Stats()
			if st.Retries != n || st.Puts != 1 || st.BytesUp != int64(tc.size) {
				t.Errorf("Stats() = %+v, want Retries %d, Puts 1, BytesUp %d", st, n, tc.size)
			}
			extra := 0
			if tc.op == "upload" {
				extra = n
			}
			if got := p.Count("upload"); got != tc.wantUploads+extra {
				t.Errorf("server saw %d uploads, want %d (each failed request resent alone)", got, tc.wantUploads+extra)
			}
			storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, s, key), b)
		})
	}
}

// TestGetSurvivesFaults reads a 5 MiB object in 1 MiB ranges through 503s, bodies cut
// off mid-way (the stream and the ranges) and a response slower than AttemptTimeout:
// every byte arrives and each faulted request is sent again. (A cut body is re-opened
// once by the client library itself, so it is not in Stats().Retries.)
func TestGetSurvivesFaults(t *testing.T) {
	srv := server(t)
	for _, tc := range []struct {
		name  string
		fault func(p *testenv.FaultProxy, w http.ResponseWriter, r *http.Request) bool
	}{
		{"503", func(_ *testenv.FaultProxy, w http.ResponseWriter, r *http.Request) bool {
			unavailable(w, r)
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
			if _, err := newStore(t, srv, "", gcsstore.Options{Prefix: "faults-" + tc.name}).Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatal(err)
			}
			// Fault the first read (the stream) and the third (a range).
			var reads atomic.Int64
			var p *testenv.FaultProxy
			p = testenv.NewFaultProxy(t, srv.Endpoint, gcsOp, func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op == "read" {
					if i := reads.Add(1); i == 1 || i == 3 {
						return tc.fault(p, w, r)
					}
				}
				return false
			})
			s := newStore(t, srv, p.URL, gcsstore.Options{Prefix: "faults-" + tc.name, PartSize: 1 << 20,
				Retry: fastRetry, AttemptTimeout: time.Second})
			// (The stream is bounded by the Get context only: a slow first response is
			// waited for, a slow range is retried after AttemptTimeout.)
			storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, s, key), b)
			want := 5 + 2 // the stream, 4 ranges, and the faulted ones again
			if tc.name == "Slow" {
				want-- // the slow stream is waited for
			}
			if got := p.Count("read"); got < want {
				t.Errorf("server saw %d reads, want at least %d", got, want)
			}
			if st := s.Stats(); (tc.name != "CutBody" && st.Retries < 1) || st.BytesDown < int64(len(b)) {
				t.Errorf("Stats() = %+v, want a retry and all bytes down", st)
			}
		})
	}
}

// TestRetriesSpentArePermanent: when the store gives up, the error is permanent; a 403
// is not retried at all.
func TestRetriesSpentArePermanent(t *testing.T) {
	srv := server(t)
	for _, tc := range []struct {
		name        string
		status      int
		wantRetries int64
	}{
		{"Always503", http.StatusServiceUnavailable, 3},
		{"Forbidden", http.StatusForbidden, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			p := testenv.NewFaultProxy(t, srv.Endpoint, gcsOp, func(w http.ResponseWriter, r *http.Request, op string) bool {
				testenv.Fail(w, r, tc.status, "application/json", fmt.Sprintf(`{"error":{"code":%d,"message":"no"}}`, tc.status))
				return true
			})
			policy := fastRetry
			policy.MaxAttempts = 4
			s := newStore(t, srv, p.URL, gcsstore.Options{Retry: policy})
			b, key := blob(t, 1000)
			_, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
			if err == nil || !codec.IsPermanent(err) {
				t.Fatalf("Put error = %v, want a permanent error", err)
			}
			if got := s.Stats().Retries; got != tc.wantRetries {
				t.Errorf("Stats().Retries = %d, want %d", got, tc.wantRetries)
			}
			if _, err := s.Get(ctx, key); err == nil || !codec.IsPermanent(err) || errors.Is(err, codec.ErrNotFound) {
				t.Errorf("Get error = %v, want permanent, not ErrNotFound", err)
			}
		})
	}
}

// TestCorruptedBodyRejected flips one byte of an upload on its way to the server: GCS
// rejects the body against the CRC32C and MD5 the store sent, the Put fails without
// resending it, and no object is visible (nor, for parts, left behind).
func TestCorruptedBodyRejected(t *testing.T) {
	srv := server(t)
	for _, tc := range []struct {
		name      string
		size      int
		wantReqs  int
		corruptAt int // index of the upload request to corrupt
	}{
		{"SingleUpload", 600 << 10, 1, 1},
		{"Part", 3 << 20, 2, 2}, // parts go one at a time; the second fails, the third is not sent
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			var uploads atomic.Int64
			p := testenv.NewFaultProxy(t, srv.Endpoint, gcsOp, func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op == "upload" && uploads.Add(1) == int64(tc.corruptAt) {
					r.Body = &testenv.FlipByte{R: r.Body, At: 12345}
				}
				return false
			})
			s := newStore(t, srv, p.URL, gcsstore.Options{PartSize: 1 << 20, Concurrency: 1, Retry: fastRetry})
			b, key := blob(t, tc.size)
			_, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
			var apiErr *googleapi.Error
			if !errors.As(err, &apiErr) || apiErr.Code != http.StatusBadRequest || !codec.IsPermanent(err) {
				t.Fatalf("Put of a corrupted body: err = %v, want a permanent 400", err)
			}
			if got := p.Count("upload"); got != tc.wantReqs {
				t.Errorf("server saw %d uploads, want %d (a rejected body is not resent)", got, tc.wantReqs)
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, codec.ErrNotFound) {
				t.Errorf("Get after rejected upload: %v, want ErrNotFound", err)
			}
			if left := listObjects(t, ctx, srv, s); len(left) != 0 {
				t.Errorf("objects left after a rejected upload: %v", left)
			}
		})
	}
}
