package payloadsvc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// TestClientConformance runs the Store conformance suite against the Client talking to
// a real HTTP server, backed by each local driver, with keys of both versions: v1
// (sha256) and v2 (blake3), each verified by its hash on the way in.
func TestClientConformance(t *testing.T) {
	drivers := []struct {
		name     string
		newStore func(t *testing.T) driver.Store
	}{
		{"memstore", func(t *testing.T) driver.Store { return memstore.New() }},
		{"filestore", func(t *testing.T) driver.Store {
			s, err := filestore.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	}
	for _, d := range drivers {
		for _, alg := range []string{driver.SHA256, driver.BLAKE3} {
			t.Run(d.name+"/"+alg, func(t *testing.T) {
				storetest.RunWithOptions(t, func(t *testing.T) driver.Store {
					svc := startService(t, d.newStore(t), Options{})
					return svc.client(t, blobclient.Options{})
				}, storetest.Options{Hash: alg})
			})
		}
	}
}

// countingStore counts the Puts that created an object, to show what reached the store.
type countingStore struct {
	driver.Store
	created atomic.Int64
}

func (s *countingStore) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	created, err := s.Store.Put(ctx, key, src, size)
	if created {
		s.created.Add(1)
	}
	return created, err
}

// TestClientPutDuplicateSendsNoBody shows the Expect: 100-continue dedupe: a second Put
// of a blob the service has is answered before the body leaves the client, and quickly
// (not after the transport's wait for 100 Continue).
func TestClientPutDuplicateSendsNoBody(t *testing.T) {
	store := &countingStore{Store: memstore.New()}
	svc := startService(t, store, Options{})
	c := svc.client(t, blobclient.Options{})
	ctx := testCtx(t, time.Minute)
	b, digest := randomBlob(t, 4<<20)
	key, _ := driver.Key("default", driver.SHA256, digest)

	if created, err := c.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil || !created {
		t.Fatalf("first Put = %v, %v; want created", created, err)
	}
	if got := svc.wire.n.Load(); got < int64(len(b)) {
		t.Fatalf("first Put: server read %d bytes, want the %d-byte body", got, len(b))
	}
	for i := 0; i < 3; i++ {
		before := svc.wire.n.Load()
		start := time.Now()
		if created, err := c.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil || created {
			t.Fatalf("Put of a present blob = %v, %v; want not created", created, err)
		}
		if got := svc.wire.n.Load() - before; got > 4<<10 {
			t.Fatalf("Put of a present blob: server read %d bytes, want only headers", got)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Put of a present blob took %s: it waited for 100 Continue", d)
		}
	}
	if n := store.created.Load(); n != 1 {
		t.Fatalf("store created %d objects, want 1", n)
	}
}

// TestClientErrors pins how answers map to errors and which are retried. Every error the
// Client returns is permanent: either it is not worth retrying or the Client's own
// retries are spent (no layer above may retry it again).
func TestClientErrors(t *testing.T) {
	_, digest := randomBlob(t, 10)
	key, _ := driver.Key("default", driver.SHA256, digest)
	tests := []struct {
		name        string
		status      int
		wantAttempt int // attempts the client makes (the policy allows 4)
		wantIs      error
	}{
		{"404 is not found", http.StatusNotFound, 1, driver.ErrNotFound},
		{"400 is permanent", http.StatusBadRequest, 1, nil},
		{"403 is permanent", http.StatusForbidden, 1, nil},
		{"413 is permanent", http.StatusRequestEntityTooLarge, 1, nil},
		{"429 is retried", http.StatusTooManyRequests, 4, nil},
		{"500 is retried", http.StatusInternalServerError, 4, nil},
		{"503 is retried", http.StatusServiceUnavailable, 4, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var attempts atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				attempts.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, `{"error":"the reason"}`)
			}))
			t.Cleanup(srv.Close)
			c, err := blobclient.New(srv.URL, blobclient.Options{Retry: driver.RetryPolicy{InitialInterval: time.Millisecond, MaxAttempts: 4}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Get(testCtx(t, 30*time.Second), key)
			if err == nil {
				t.Fatal("Get succeeded, want an error")
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Fatalf("err = %v, want errors.Is %v", err, tc.wantIs)
			}
			var se *blobclient.StatusError
			if !errors.As(err, &se) || se.StatusCode != tc.status || se.Message != "the reason" {
				t.Fatalf("err = %v, want a *blobclient.StatusError %d with the service's message", err, tc.status)
			}
			if !driver.IsPermanent(err) {
				t.Fatalf("IsPermanent(%v) = false, want true", err)
			}
			if got := attempts.Load(); got != int64(tc.wantAttempt) {
				t.Fatalf("%d attempts, want %d", got, tc.wantAttempt)
			}
		})
	}
}

// TestClientRetriesTransientFailures: a service that fails twice, then works, is
// transparent to the caller, for Put (the body is resent from the start), Get and Touch.
func TestClientRetriesTransientFailures(t *testing.T) {
	svc := startService(t, nil, Options{})
	var failures atomic.Int64
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failures.Add(1)%3 != 0 { // two failures before each success
			if r.Body != nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1000)) // fail mid-body
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		svc.h.ServeHTTP(w, r)
	}))
	t.Cleanup(flaky.Close)
	c, err := blobclient.New(flaky.URL, blobclient.Options{Retry: driver.RetryPolicy{InitialInterval: time.Millisecond, MaxAttempts: 5}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, time.Minute)
	b, digest := randomBlob(t, 300<<10)
	key, _ := driver.Key("default", driver.SHA256, digest)
	if _, err := c.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatalf("Put through a flaky service: %v", err)
	}
	info, err := c.Touch(ctx, key)
	if err != nil || info.Size != int64(len(b)) {
		t.Fatalf("Touch = %+v, %v; want size %d", info, err, len(b))
	}
	storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, c, key), b) // through a flaky service
}

// TestClientSendsToken: the bearer token reaches the service, and a wrong one is a
// permanent error naming the problem.
func TestClientSendsToken(t *testing.T) {
	auth, err := NewTokenAuthorizer(map[string][]string{"s3cret": {"default"}})
	if err != nil {
		t.Fatal(err)
	}
	svc := startService(t, nil, Options{Authorizer: auth})
	ctx := testCtx(t, time.Minute)
	b, digest := randomBlob(t, 1000)
	key, _ := driver.Key("default", driver.SHA256, digest)

	if _, err := svc.client(t, blobclient.Options{Token: "s3cret"}).Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatalf("Put with the right token: %v", err)
	}
	_, err = svc.client(t, blobclient.Options{Token: "wrong"}).Touch(ctx, key)
	var se *blobclient.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized || !driver.IsPermanent(err) {
		t.Fatalf("Touch with a wrong token: err = %v, want a permanent 401", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("error %q repeats the token", err)
	}
	other, _ := driver.Key("other", driver.SHA256, digest)
	_, err = svc.client(t, blobclient.Options{Token: "s3cret"}).Get(ctx, other)
	if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden || !strings.Contains(se.Message, `"other"`) {
		t.Fatalf("Get in another namespace: err = %v, want 403 naming the namespace", err)
	}
}

// TestClientRejectsBadKeys: keys outside the grammar never leave the process.
func TestClientRejectsBadKeys(t *testing.T) {
	c, err := blobclient.New("http://127.0.0.1:1", blobclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", "v1/ns/sha256/xyz", "v2/ns/sha256/" + strings.Repeat("a", 64), "v1/../sha256/" + strings.Repeat("a", 64), "a/b"} {
		if _, err := c.Get(context.Background(), key); !errors.Is(err, driver.ErrInvalidKey) {
			t.Errorf("Get(%q) err = %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestNewClientRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "http://", "127.0.0.1:8080", "http://x/?a=b"} {
		if _, err := blobclient.New(u, blobclient.Options{}); err == nil {
			t.Errorf("blobclient.New(%q) succeeded, want an error", u)
		}
	}
}

// TestClientTimeout: a request that hangs is cut at Timeout and retried; the caller's
// own deadline ends the call.
func TestClientTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c, err := blobclient.New(srv.URL, blobclient.Options{Timeout: 200 * time.Millisecond, Retry: driver.RetryPolicy{MaxAttempts: 2, InitialInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	_, digest := randomBlob(t, 10)
	key, _ := driver.Key("default", driver.SHA256, digest)
	start := time.Now()
	_, err = c.Touch(context.Background(), key)
	elapsed := time.Since(start)
	// Retried, then permanent: the Client owns the retries and spent them.
	if !errors.Is(err, blobclient.ErrRequestTimeout) || !driver.IsPermanent(err) {
		t.Fatalf("Touch of a hung service: err = %v, want blobclient.ErrRequestTimeout, permanent after the retries", err)
	}
	if elapsed < 400*time.Millisecond || elapsed > 5*time.Second {
		t.Fatalf("Touch of a hung service took %s, want two attempts of 200ms", elapsed)
	}

	// The caller's own deadline is final: no retry after it.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.Touch(ctx, key)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, blobclient.ErrRequestTimeout) {
		t.Fatalf("Touch past the caller's deadline: err = %v, want context.DeadlineExceeded", err)
	}
}

// failingReadStore returns readers that fail after half the blob, as a store whose
// connection breaks mid-read does.
type failingReadStore struct{ driver.Store }

func (s failingReadStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	return io.NopCloser(io.MultiReader(bytes.NewReader(data[:len(data)/2]), errReader{})), nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

// TestGetBrokenMidStream: when the store fails mid-blob, the service aborts the
// response, so the client's read fails rather than ending short and looking complete,
// and a Codec over the client reports the blob unavailable, never corrupt data.
func TestGetBrokenMidStream(t *testing.T) {
	mem := memstore.New()
	svc := startService(t, failingReadStore{mem}, Options{})
	c := svc.client(t, blobclient.Options{})
	ctx := testCtx(t, time.Minute)
	b, digest := randomBlob(t, 1<<20)
	key, _ := driver.Key("default", driver.SHA256, digest)
	if _, err := mem.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	rc, err := c.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err == nil {
		t.Fatalf("read %d of %d bytes with no error: a broken stream looked complete", len(got), len(b))
	}
}
