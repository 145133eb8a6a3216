package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// answerShort answers a GET of object b like S3 would, headers and all, but sends only
// the first keep bytes of the body before dropping the connection.
func answerShort(w http.ResponseWriter, r *http.Request, b []byte, keep int) {
	first, last := 0, len(b)-1
	status := http.StatusOK
	if rng, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes="); ok {
		a, z, _ := strings.Cut(rng, "-")
		first, _ = strconv.Atoi(a)
		if z != "" {
			last, _ = strconv.Atoi(z)
		}
		status = http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(b)))
	}
	w.Header().Set("Content-Length", strconv.Itoa(last-first+1))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(status)
	_, _ = w.Write(b[first : first+min(keep, last-first+1)])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler) // close the connection mid-body
}

// TestGetShortBody cuts GET bodies short. A body cut once is resumed (stream) or its
// range fetched again (parallel ranges), the bytes come back whole and the retry is
// counted; a body that never completes is a read error satisfying
// errors.Is(err, io.ErrUnexpectedEOF), never a silent short read.
func TestGetShortBody(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	const part = 5 << 20
	policy := fastRetry
	policy.MaxAttempts = 3
	for _, tc := range []struct {
		name        string
		concurrency int
		cut         map[int64]int // n-th GET (from 1) -> body bytes it gets; -1: untouched
		rest        int           // for the other GETs
		wantErr     bool
	}{
		{"StreamCutOnce", 1, map[int64]int{1: 1 << 20}, -1, false},
		{"RangeCutOnce", 4, map[int64]int{2: 1 << 20}, -1, false},
		{"StreamAlwaysShort", 1, map[int64]int{1: 1 << 20}, 0, true},
		{"RangeAlwaysShort", 4, map[int64]int{1: -1}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			b, key := blob(t, 12<<20)
			var gets atomic.Int64
			p := newFaultProxy(t, srv.Endpoint, func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op != "GetObject" {
					return false
				}
				keep, ok := tc.cut[gets.Add(1)]
				if !ok {
					keep = tc.rest
				}
				if keep < 0 {
					return false
				}
				answerShort(w, r, b, keep)
				return true
			})
			s := newStore(t, srv, p.URL, s3store.Options{PartSize: part, Concurrency: tc.concurrency, Retry: policy})
			if _, err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatal(err)
			}
			r, err := s.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			st := s.Stats()
			if tc.wantErr {
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("ReadAll of a body that never completes: %d bytes, err = %v; want io.ErrUnexpectedEOF", len(got), err)
				}
				if !bytes.Equal(got, b[:len(got)]) {
					t.Errorf("the %d bytes before the error differ from the object's", len(got))
				}
				t.Logf("failed after %d bytes, %d retries: %v", len(got), st.Retries, err)
				return
			}
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			storetest.EqualBlobs(t, got, b)
			if st.Retries != 1 || st.BytesDown != int64(len(b)) {
				t.Errorf("Stats() = %+v, want Retries 1, BytesDown %d", st, len(b))
			}
		})
	}
}

// TestGetHonoursContext: cancelling the Get context stops a read in progress with
// context.Canceled, and Close returns once the prefetch has stopped.
func TestGetHonoursContext(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	for _, conc := range []int{1, 4} {
		t.Run(fmt.Sprintf("Concurrency%d", conc), func(t *testing.T) {
			s := newStore(t, srv, "", s3store.Options{PartSize: 5 << 20, Concurrency: conc})
			b, key := blob(t, 12<<20)
			if _, err := s.Put(testenv.Context(t, time.Minute), key, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r, err := s.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(r, make([]byte, 1<<20)); err != nil {
				t.Fatal(err)
			}
			cancel()
			_, err = io.Copy(io.Discard, r)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("read after cancel: err = %v, want context.Canceled", err)
			}
			if err := r.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, context.Canceled) || !driver.IsPermanent(err) {
				t.Errorf("Get with a cancelled context: %v, want context.Canceled", err)
			}
		})
	}
}
