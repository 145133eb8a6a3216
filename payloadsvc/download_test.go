package payloadsvc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// breakingStore's readers fail after cut bytes, the first fails times; the service then
// aborts the response mid-body.
type breakingStore struct {
	driver.Store
	cut   int64
	fails atomic.Int64
}

var errMidStream = errors.New("injected mid-stream failure")

func (s *breakingStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.Store.Get(ctx, key)
	if err != nil || s.fails.Add(-1) < 0 {
		return rc, err
	}
	return &breakingReader{ReadCloser: rc, left: s.cut}, nil
}

type breakingReader struct {
	io.ReadCloser
	left int64
}

// Seek and Size pass through, so the handler can serve ranges as with the real store.
func (r *breakingReader) Seek(off int64, whence int) (int64, error) {
	return r.ReadCloser.(io.Seeker).Seek(off, whence)
}

func (r *breakingReader) Size() int64 { return r.ReadCloser.(driver.Sizer).Size() }

func (r *breakingReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, errMidStream
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.ReadCloser.Read(p)
	r.left -= int64(n)
	return n, err
}

// TestClientResumesBrokenDownload: a download the service aborts mid-body is resumed by
// the Client from the byte where it broke (a ranged GET answered 206 by the real
// handler), and the caller reads the whole blob once, verified.
func TestClientResumesBrokenDownload(t *testing.T) {
	store := &breakingStore{Store: memstore.New(), cut: 3 << 20}
	store.fails.Store(2)
	svc := startService(t, store, Options{})
	c := svc.client(t, blobclient.Options{})
	ctx := testCtx(t, time.Minute)
	b, digest := randomBlob(t, 8<<20)
	key, _ := driver.Key("default", driver.SHA256, digest)
	if _, err := c.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	before := svc.wire.out.Load()
	storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, c, key), b)
	// Two breaks after 3 MiB each: the resumed GETs start at 3 and 6 MiB, so about the
	// blob's size crosses the wire, not the blob twice.
	if sent := svc.wire.out.Load() - before; sent > int64(len(b))+int64(len(b))/4 {
		t.Fatalf("service sent %d bytes for an %d-byte blob: resumes started over", sent, len(b))
	}
}

// TestClientResumeWithoutRanges: a service (or proxy) that ignores Range answers 200 with
// the whole blob; the Client skips what it has. One that keeps breaking without progress
// is an error, never a short read.
func TestClientResumeWithoutRanges(t *testing.T) {
	b, digest := randomBlob(t, 1<<20)
	key, _ := driver.Key("default", driver.SHA256, digest)
	var gets, breakEvery atomic.Int64
	breakEvery.Store(2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := gets.Add(1)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		if every := breakEvery.Load(); every == 1 || every > 1 && n%every == 1 {
			w.Write(b[:len(b)/3])
			panic(http.ErrAbortHandler)
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	c, err := blobclient.New(srv.URL, blobclient.Options{Retry: driver.RetryPolicy{InitialInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, time.Minute)
	storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, c, key), b)
	if g := gets.Load(); g != 2 {
		t.Fatalf("%d GETs, want 2 (one broken, one resumed)", g)
	}

	breakEvery.Store(1) // every answer breaks at the same byte: no progress after the first
	rc, err := c.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err == nil || !driver.IsPermanent(err) {
		t.Fatalf("read of a download that never completes: %d bytes, err %v; want a permanent error", len(got), err)
	}
}
