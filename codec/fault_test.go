package codec_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

var fastRetry = driver.RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}

// retrying gives a test store the retries a real driver owns.
func retrying(s driver.Store, retries *atomic.Int64) driver.Store {
	return driver.WithRetry(s, fastRetry, func(string, error) {
		if retries != nil {
			retries.Add(1)
		}
	})
}

func TestRetriesTransientFailures(t *testing.T) {
	fs := &faultStore{Store: memstore.New()}
	var retries atomic.Int64
	c := newCodec(t, retrying(fs, &retries), codec.Options{})
	fs.failFor(150 * time.Millisecond)
	in := []*commonpb.Payload{payload(randomBytes(1<<20, 4))}
	roundTrip(t, c, in)
	if st := c.Stats(); retries.Load() == 0 || st.StoreErrors != 0 {
		t.Fatalf("retries %d, store errors %d: want retries and no errors", retries.Load(), st.StoreErrors)
	}
}

func TestGivesUpWithinTimeout(t *testing.T) {
	fs := &faultStore{Store: memstore.New()}
	c := newCodec(t, retrying(fs, nil), codec.Options{Timeout: 300 * time.Millisecond})
	fs.failFor(time.Hour)
	start := time.Now()
	_, err := c.Encode([]*commonpb.Payload{payload(randomBytes(1<<20, 5))})
	if !errors.Is(err, errInjected) {
		t.Fatalf("Encode against a dead store: %v, want the store's error", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("Encode took %s to give up, want about the 300ms Timeout", el)
	}
	if st := c.Stats(); st.StoreErrors != 1 || fs.count("put") < 2 {
		t.Fatalf("store errors %d, puts %d; want 1 error after retries", st.StoreErrors, fs.count("put"))
	}
}

// TestOneRetryLayer: the codec never retries a store's failure; retries are the
// driver's. Against a store that always fails each operation is tried once; against a
// driver that retries, the count is exactly the driver's attempts.
func TestOneRetryLayer(t *testing.T) {
	in := []*commonpb.Payload{payload(randomBytes(1<<20, 9))}
	t.Run("no retries in the driver", func(t *testing.T) {
		fs := &faultStore{Store: memstore.New()}
		fs.failFor(time.Hour)
		c := newCodec(t, fs, codec.Options{})
		if _, err := c.Encode(in); !errors.Is(err, errInjected) {
			t.Fatalf("Encode: %v, want the store's error", err)
		}
		if n := fs.count("put"); n != 1 {
			t.Fatalf("Put called %d times, want 1: the codec must not retry", n)
		}
		if n := fs.count("touch"); n != 0 {
			t.Fatalf("Touch called %d times, want 0: Put is the one existence check", n)
		}
	})
	t.Run("driver fails N times", func(t *testing.T) {
		const n = 3
		fs := &faultStore{Store: memstore.New()}
		fs.failNext("put", n)
		store := driver.WithRetry(fs, driver.RetryPolicy{InitialInterval: time.Millisecond, MaxAttempts: 10}, nil)
		c := newCodec(t, store, codec.Options{})
		if _, err := c.Encode(in); err != nil {
			t.Fatalf("Encode: %v", err)
		}
		if got := fs.count("put"); got != n+1 {
			t.Fatalf("Put called %d times, want %d (%d failures, then success)", got, n+1, n)
		}
	})
	t.Run("driver retries exhausted are permanent", func(t *testing.T) {
		fs := &faultStore{Store: memstore.New()}
		fs.failFor(time.Hour)
		store := driver.WithRetry(fs, driver.RetryPolicy{InitialInterval: time.Millisecond, MaxAttempts: 4}, nil)
		_, err := store.Put(context.Background(), "v1/default/sha256/"+strings.Repeat("a", 64), strings.NewReader("x"), 1)
		if !errors.Is(err, errInjected) || !driver.IsPermanent(err) {
			t.Fatalf("Put after spent retries: %v (permanent %v), want the store's error, permanent", err, driver.IsPermanent(err))
		}
		if got := fs.count("put"); got != 4 {
			t.Fatalf("Put called %d times, want 4 (MaxAttempts)", got)
		}
	})
}

func TestNotFoundIsNotRetried(t *testing.T) {
	writer := newCodec(t, memstore.New(), codec.Options{})
	enc, err := writer.Encode([]*commonpb.Payload{payload(randomBytes(1<<20, 6))})
	if err != nil {
		t.Fatal(err)
	}
	fs := &faultStore{Store: memstore.New()}
	reader := newCodec(t, retrying(fs, nil), codec.Options{})
	if _, err := reader.Decode(enc); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Decode: %v, want ErrNotFound", err)
	}
	if n := fs.count("get"); n != 1 {
		t.Fatalf("Get called %d times for a missing blob, want 1 (not retried)", n)
	}
}

// TestTamperedBlob changes stored bytes on disk: decode must fail with ErrCorrupt naming the
// key, and never return the bytes. Also truncation and extension.
func TestTamperedBlob(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func([]byte) []byte
	}{
		{"flipped byte", func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-10] }},
		{"extended", func(b []byte) []byte { return append(b, 'x') }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := filestore.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			writer := newCodec(t, fs, codec.Options{})
			enc, err := writer.Encode([]*commonpb.Payload{payload(randomBytes(1<<20, 8))})
			if err != nil {
				t.Fatal(err)
			}
			ref, _ := codec.ParseReference(enc[0])
			key, _ := ref.Key("default")
			path, _ := fs.Path(key)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.tamper(b), 0o644); err != nil {
				t.Fatal(err)
			}
			reader := newCodec(t, fs, codec.Options{}) // no cache of the original
			out, err := reader.Decode(enc)
			if !errors.Is(err, driver.ErrCorrupt) {
				t.Fatalf("Decode of a tampered blob: %v, want ErrCorrupt", err)
			}
			if out != nil {
				t.Fatal("Decode returned payloads along with ErrCorrupt")
			}
			if want := filepath.Base(path); !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not name the key", err)
			}
		})
	}
}
