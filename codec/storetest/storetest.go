// Package storetest is the conformance suite every driver.Store runs, in the spirit of
// go-cloud's drivertest: one set of tests pins the Store contract for memstore, filestore,
// s3store and the payloadsvc client alike.
package storetest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/internal/contenthash"
)

// Options tunes the suite for slow or large stores. The zero value runs everything.
type Options struct {
	// LargeSize is the size of the large-blob round trip; default 9 MiB (over one default
	// S3 part is not required: s3store tests multipart separately).
	LargeSize int
	// Hash is the hash the suite's keys name: driver.SHA256 (v1 keys, the default) or
	// driver.BLAKE3 (v2 keys). A driver that treats the versions apart runs both.
	Hash string
}

// Run runs the conformance suite. newStore returns a fresh, empty store for each subtest;
// it registers its own cleanup with t.
func Run(t *testing.T, newStore func(t *testing.T) driver.Store) {
	RunWithOptions(t, newStore, Options{})
}

// RunWithOptions is Run with Options.
func RunWithOptions(t *testing.T, newStore func(t *testing.T) driver.Store, opts Options) {
	opts.LargeSize = cmp.Or(opts.LargeSize, 9<<20)
	opts.Hash = cmp.Or(opts.Hash, driver.SHA256)
	if _, err := contenthash.New(opts.Hash); err != nil {
		t.Fatalf("storetest: Options.Hash: %v", err)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s driver.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"EmptyBlob", testEmptyBlob},
		{"LargeBlob", func(t *testing.T, s driver.Store) { testLarge(t, s, opts.LargeSize) }},
		{"GetMissing", testGetMissing},
		{"TouchMissing", testTouchMissing},
		{"TouchReportsSize", testTouch},
		{"PutIdempotent", testIdempotent},
		{"PutReportsCreated", testCreated},
		{"PutExistingReadsNoSource", testExistingNoRead},
		{"PutExistingRefreshesAge", testExistingRefreshes},
		{"PutSequentialSource", testSequential},
		{"ConcurrentPutSameKey", testConcurrentPut},
		{"NoPartialObjectVisible", testNoPartial},
		{"FailedSourceLeavesNothing", testFailedSource},
		{"ShortSourceLeavesNothing", testShortSource},
		{"CancelledContext", testCancelled},
		{"ManyKeys", testManyKeys},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keyHash.Store(t, opts.Hash)
			defer keyHash.Delete(t)
			tc.fn(t, newStore(t))
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// RandomBlob returns n random bytes and their v1 (SHA-256) content-address key in
// namespace, for driver tests of their own.
func RandomBlob(t testing.TB, namespace string, n int) ([]byte, string) {
	t.Helper()
	return RandomBlobFor(t, driver.SHA256, namespace, n)
}

// RandomBlobFor is RandomBlob with a key that names algorithm: driver.SHA256 (v1) or
// driver.BLAKE3 (v2).
func RandomBlobFor(t testing.TB, algorithm, namespace string, n int) ([]byte, string) {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	h, err := contenthash.New(algorithm)
	if err != nil {
		t.Fatal(err)
	}
	h.Write(b)
	key, err := driver.Key(namespace, algorithm, contenthash.Hex(h))
	if err != nil {
		t.Fatal(err)
	}
	return b, key
}

// keyHash holds Options.Hash for each running test of the suite, for randomBlob.
var keyHash sync.Map // *testing.T -> string

func randomBlob(t *testing.T, n int) ([]byte, string) {
	t.Helper()
	alg, _ := keyHash.Load(t)
	return RandomBlobFor(t, alg.(string), "storetest", n)
}

func put(t *testing.T, s driver.Store, key string, b []byte) bool {
	t.Helper()
	created, err := s.Put(ctx(t), key, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Put(%s, %d bytes): %v", key, len(b), err)
	}
	return created
}

func get(t *testing.T, s driver.Store, key string) []byte {
	t.Helper()
	return ReadBlob(t, ctx(t), s, key)
}

// ReadBlob returns the whole blob under key, failing the test on any error, for driver
// tests of their own.
func ReadBlob(t testing.TB, ctx context.Context, s driver.Store, key string) []byte {
	t.Helper()
	r, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("Get(%s): read: %v", key, err)
	}
	return b
}

// EqualBlobs fails the test unless got and want are the same bytes; the message gives
// sizes and digests, not the bytes.
func EqualBlobs(t testing.TB, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes (sha256 %x), want %d bytes (sha256 %x)", len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
}

func testRoundTrip(t *testing.T, s driver.Store) {
	b, key := randomBlob(t, 4096)
	put(t, s, key, b)
	EqualBlobs(t, get(t, s, key), b)
}

func testEmptyBlob(t *testing.T, s driver.Store) {
	b, key := randomBlob(t, 0)
	put(t, s, key, b)
	EqualBlobs(t, get(t, s, key), b)
}

func testLarge(t *testing.T, s driver.Store, n int) {
	b, key := randomBlob(t, n)
	put(t, s, key, b)
	EqualBlobs(t, get(t, s, key), b)
}

func testGetMissing(t *testing.T, s driver.Store) {
	_, key := randomBlob(t, 10)
	_, err := s.Get(ctx(t), key)
	if !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Get(missing) error = %v, want errors.Is(err, driver.ErrNotFound)", err)
	}
}

func testTouchMissing(t *testing.T, s driver.Store) {
	_, key := randomBlob(t, 10)
	_, err := s.Touch(ctx(t), key)
	if !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Touch(missing) error = %v, want errors.Is(err, driver.ErrNotFound)", err)
	}
}

func testTouch(t *testing.T, s driver.Store) {
	b, key := randomBlob(t, 1234)
	put(t, s, key, b)
	info, err := s.Touch(ctx(t), key)
	if err != nil {
		t.Fatalf("Touch: %v", err)
	}
	if info.Size != int64(len(b)) {
		t.Fatalf("Touch size = %d, want %d", info.Size, len(b))
	}
}

func testIdempotent(t *testing.T, s driver.Store) {
	b, key := randomBlob(t, 2048)
	put(t, s, key, b)
	put(t, s, key, b)
	EqualBlobs(t, get(t, s, key), b)
}

func testCreated(t *testing.T, s driver.Store) {
	b, key := randomBlob(t, 2500)
	if !put(t, s, key, b) {
		t.Fatal("first Put reported created = false, want true")
	}
	if put(t, s, key, b) {
		t.Fatal("second Put of the same key reported created = true, want false")
	}
}

// testExistingNoRead: a Put of a key that exists must not read its source (the payload
// service relies on it to skip uploads of blobs it has).
func testExistingNoRead(t *testing.T, s driver.Store) {
	b, key := randomBlob(t, 4000)
	put(t, s, key, b)
	src := &failingReader{r: bytes.NewReader(b), failAfter: 0}
	created, err := s.Put(ctx(t), key, src, int64(len(b)))
	if err != nil || created {
		t.Fatalf("Put(existing key) = %v, %v; want false, nil without reading the source", created, err)
	}
	if src.n != 0 || src.reads != 0 {
		t.Fatalf("Put(existing key) read the source %d times", src.reads)
	}
	EqualBlobs(t, get(t, s, key), b)
}

// testExistingRefreshes: a Put that finds its key must leave it with a fresh age, as
// Touch would (retention is counted from the last use).
func testExistingRefreshes(t *testing.T, s driver.Store) {
	b, key := randomBlob(t, 1500)
	put(t, s, key, b)
	before := time.Now()
	if put(t, s, key, b) {
		t.Fatal("second Put reported created")
	}
	info, err := s.Touch(ctx(t), key)
	if err != nil {
		t.Fatalf("Touch: %v", err)
	}
	if info.Size != int64(len(b)) {
		t.Fatalf("Touch size = %d, want %d", info.Size, len(b))
	}
	// Stores with whole-second times (S3) may report up to a second earlier.
	if !info.ModTime.IsZero() && info.ModTime.Before(before.Add(-2*time.Second)) {
		t.Fatalf("ModTime %s after reuse is older than the reuse at %s", info.ModTime, before)
	}
}

// testSequential hands Put a source that is only an io.Reader (no Seek, no ReadAt), as
// the payload service does with a request body.
func testSequential(t *testing.T, s driver.Store) {
	b, key := randomBlob(t, 300<<10)
	created, err := s.Put(ctx(t), key, struct{ io.Reader }{bytes.NewReader(b)}, int64(len(b)))
	if err != nil || !created {
		t.Fatalf("Put(sequential source) = %v, %v; want true, nil", created, err)
	}
	EqualBlobs(t, get(t, s, key), b)
}

func testConcurrentPut(t *testing.T, s driver.Store) {
	b, key := randomBlob(t, 256<<10)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Put(ctx(t), key, bytes.NewReader(b), int64(len(b)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Put: %v", err)
		}
	}
	EqualBlobs(t, get(t, s, key), b)
}

// testNoPartialObjectVisible reads the key in a loop while a slow Put writes it: every
// read is either not-found or the whole blob.
func testNoPartial(t *testing.T, s driver.Store) {
	b, key := randomBlob(t, 2<<20)
	src := &slowReader{r: bytes.NewReader(b), delay: time.Millisecond, chunk: 64 << 10}
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(ctx(t), key, src, int64(len(b)))
		done <- err
	}()
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			finished = true
		default:
		}
		r, err := s.Get(ctx(t), key)
		if errors.Is(err, driver.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("Get during Put: %v", err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatalf("Get during Put: read: %v", err)
		}
		EqualBlobs(t, got, b)
	}
	EqualBlobs(t, get(t, s, key), b)
}

func testFailedSource(t *testing.T, s driver.Store) {
	b, key := randomBlob(t, 1<<20)
	src := &failingReader{r: bytes.NewReader(b), failAfter: 300 << 10}
	if _, err := s.Put(ctx(t), key, src, int64(len(b))); err == nil {
		t.Fatal("Put with a source that fails mid-way succeeded, want error")
	}
	if _, err := s.Get(ctx(t), key); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Get after failed Put: err = %v, want ErrNotFound (nothing visible)", err)
	}
}

func testShortSource(t *testing.T, s driver.Store) {
	b, key := randomBlob(t, 100<<10)
	if _, err := s.Put(ctx(t), key, bytes.NewReader(b[:len(b)/2]), int64(len(b))); err == nil {
		t.Fatal("Put with a source shorter than size succeeded, want error")
	}
	if _, err := s.Get(ctx(t), key); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Get after short Put: err = %v, want ErrNotFound (nothing visible)", err)
	}
}

func testCancelled(t *testing.T, s driver.Store) {
	b, key := randomBlob(t, 1000)
	c, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(c, key, bytes.NewReader(b), int64(len(b))); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with cancelled context: err = %v, want context.Canceled", err)
	}
	if _, err := s.Get(ctx(t), key); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Get after cancelled Put: err = %v, want ErrNotFound", err)
	}
	put(t, s, key, b)
	if _, err := s.Get(c, key); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with cancelled context: err = %v, want context.Canceled", err)
	}
}

func testManyKeys(t *testing.T, s driver.Store) {
	type kv struct {
		key string
		b   []byte
	}
	var all []kv
	for i := 0; i < 40; i++ {
		b, key := randomBlob(t, 100+i*37)
		all = append(all, kv{key, b})
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(all))
	for _, e := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Put(ctx(t), e.key, bytes.NewReader(e.b), int64(len(e.b)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range all {
		EqualBlobs(t, get(t, s, e.key), e.b)
	}
}

// slowReader returns at most chunk bytes per Read, sleeping delay before each, so a
// concurrent reader has time to observe a write in progress.
type slowReader struct {
	r     *bytes.Reader
	delay time.Duration
	chunk int
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.delay)
	if len(p) > s.chunk {
		p = p[:s.chunk]
	}
	return s.r.Read(p)
}

func (s *slowReader) Seek(off int64, whence int) (int64, error) { return s.r.Seek(off, whence) }

// failingReader fails every read once failAfter bytes have been read since the last
// rewind. It is deliberately no io.ReaderAt, so drivers read it in order.
type failingReader struct {
	r         *bytes.Reader
	failAfter int64
	n         int64
	reads     int
}

var errSource = errors.New("storetest: injected source failure")

func (f *failingReader) Read(p []byte) (int, error) {
	f.reads++
	if f.n >= f.failAfter {
		return 0, errSource
	}
	if rem := f.failAfter - f.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := f.r.Read(p)
	f.n += int64(n)
	return n, err
}

func (f *failingReader) Seek(off int64, whence int) (int64, error) {
	f.n = 0
	return f.r.Seek(off, whence)
}
