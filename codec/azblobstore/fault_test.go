package azblobstore_test

import (
	"bytes"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testenv"
)

// fastRetry keeps fault tests quick: millisecond backoffs, bounded by time.
var fastRetry = codec.RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: 20 * time.Millisecond, MaxElapsed: 20 * time.Second}

// azOp names a Blob service request.
func azOp(r *http.Request) string {
	comp := r.URL.Query().Get("comp")
	switch {
	case r.Method == http.MethodPut && comp != "":
		return comp // block, blocklist, metadata
	case r.Method == http.MethodPut:
		return "putblob"
	}
	return r.Method
}

// serverBusy answers like Azure under load: 503 ServerBusy.
func serverBusy(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-ms-error-code", "ServerBusy")
	testenv.Fail(w, r, http.StatusServiceUnavailable, "application/xml",
		`<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>busy</Message></Error>`)
}

// TestRetryOn5xx answers the first N requests of one kind with 503 ServerBusy: the
// operation succeeds, the store counts exactly N retries, and a failed block is resent
// alone.
func TestRetryOn5xx(t *testing.T) {
	srv := server(t)
	const n = 3
	for _, tc := range []struct {
		name       string
		op         string // requests answered 503; "" = any
		size       int
		wantBlocks int // Put Block requests that reached the server
	}{
		{"AnyRequestPutBlob", "", 1 << 20, 0},
		{"Properties", "HEAD", 1 << 20, 0},
		{"PutBlob", "putblob", 1 << 20, 0},
		{"PutBlock", "block", 3 << 20, 3},
		{"PutBlockList", "blocklist", 3 << 20, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			var failed atomic.Int64
			p := testenv.NewFaultProxy(t, srv.Endpoint, azOp, func(w http.ResponseWriter, r *http.Request, op string) bool {
				if (tc.op == "" || op == tc.op) && failed.Add(1) <= n {
					serverBusy(w, r)
					return true
				}
				return false
			})
			s := newStore(t, srv, p.URL, azblobstore.Options{PartSize: 1 << 20, Retry: fastRetry})
			b, key := blob(t, tc.size)
			if created, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil || !created {
				t.Fatalf("Put through %d 503s = %v, %v", n, created, err)
			}
			st := s.Stats()
			if st.Retries != n || st.Puts != 1 || st.BytesUp != int64(tc.size) {
				t.Errorf("Stats() = %+v, want Retries %d, Puts 1, BytesUp %d", st, n, tc.size)
			}
			extra := 0
			if tc.op == "block" {
				extra = n
			}
			if got := p.Count("block"); got != tc.wantBlocks+extra {
				t.Errorf("server saw %d Put Block requests, want %d (each failed block resent alone)", got, tc.wantBlocks+extra)
			}
			storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, s, key), b)
		})
	}
}

// TestGetSurvivesFaults reads a 5 MiB blob in 1 MiB ranges through 503s, bodies cut off
// mid-way (the stream and the ranges) and a response slower than AttemptTimeout: every
// byte arrives, each fault costs one retry or resume.
func TestGetSurvivesFaults(t *testing.T) {
	srv := server(t)
	for _, tc := range []struct {
		name  string
		fault func(p *testenv.FaultProxy, w http.ResponseWriter, r *http.Request) bool
	}{
		{"503", func(_ *testenv.FaultProxy, w http.ResponseWriter, r *http.Request) bool {
			serverBusy(w, r)
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
			if _, err := newStore(t, srv, "", azblobstore.Options{Prefix: "faults-" + tc.name}).Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatal(err)
			}
			// Fault the first download (the stream) and the third (a range).
			var gets atomic.Int64
			var p *testenv.FaultProxy
			p = testenv.NewFaultProxy(t, srv.Endpoint, azOp, func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op == http.MethodGet {
					if i := gets.Add(1); i == 1 || i == 3 {
						return tc.fault(p, w, r)
					}
				}
				return false
			})
			s := newStore(t, srv, p.URL, azblobstore.Options{Prefix: "faults-" + tc.name, PartSize: 1 << 20,
				Retry: fastRetry, AttemptTimeout: time.Second})
			// (The stream is bounded by the Get context only: a slow first response is
			// waited for, a slow range is retried after AttemptTimeout.)
			storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, s, key), b)
			if st := s.Stats(); st.Retries < 1 || st.BytesDown < int64(len(b)) {
				t.Errorf("Stats() = %+v, want a retry or resume and all bytes down", st)
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
		answer      func(w http.ResponseWriter, r *http.Request)
		wantRetries int64
	}{
		{"AlwaysServerBusy", serverBusy, 3},
		{"Forbidden", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("x-ms-error-code", "AuthorizationFailure")
			testenv.Fail(w, r, http.StatusForbidden, "application/xml",
				`<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationFailure</Code><Message>no</Message></Error>`)
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			p := testenv.NewFaultProxy(t, srv.Endpoint, azOp, func(w http.ResponseWriter, r *http.Request, op string) bool {
				tc.answer(w, r)
				return true
			})
			policy := fastRetry
			policy.MaxAttempts = 4
			s := newStore(t, srv, p.URL, azblobstore.Options{Retry: policy})
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

// TestCorruptedBodyRejected flips one byte of an upload on its way to the server: Azure
// rejects the body against the Content-MD5 the store sent (Md5Mismatch), the Put fails
// without resending it, and no blob is visible.
func TestCorruptedBodyRejected(t *testing.T) {
	srv := server(t)
	for _, tc := range []struct {
		name     string
		op       string
		size     int
		wantReqs int
	}{
		{"PutBlob", "putblob", 600 << 10, 1},
		{"PutBlock", "block", 3 << 20, 2}, // blocks go one at a time; the second fails
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			var reqs atomic.Int64
			p := testenv.NewFaultProxy(t, srv.Endpoint, azOp, func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op == tc.op && reqs.Add(1) == int64(tc.wantReqs) {
					r.Body = &testenv.FlipByte{R: r.Body, At: 12345}
				}
				return false
			})
			s := newStore(t, srv, p.URL, azblobstore.Options{PartSize: 1 << 20, Concurrency: 1, Retry: fastRetry})
			b, key := blob(t, tc.size)
			_, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
			var re *azcore.ResponseError
			if !errors.As(err, &re) || re.ErrorCode != "Md5Mismatch" || !codec.IsPermanent(err) {
				t.Fatalf("Put of a corrupted body: err = %v, want a permanent Md5Mismatch", err)
			}
			if got := p.Count(tc.op); got != tc.wantReqs {
				t.Errorf("server saw %d %s requests, want %d (a rejected body is not resent)", got, tc.op, tc.wantReqs)
			}
			if p.Count("blocklist") != 0 {
				t.Error("a block list was committed after a rejected block")
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, codec.ErrNotFound) {
				t.Errorf("Get after rejected upload: %v, want ErrNotFound", err)
			}
			if left := listBlobs(t, ctx, srv, s); len(left) != 0 {
				t.Errorf("blobs visible after a rejected upload: %v", left)
			}
		})
	}
}
