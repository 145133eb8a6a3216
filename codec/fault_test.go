package codec_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

var fastRetry = codec.RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}

func TestRetriesTransientFailures(t *testing.T) {
	fs := &faultStore{Store: memstore.New()}
	c := newCodec(t, fs, codec.Options{Retry: fastRetry})
	fs.failFor(150 * time.Millisecond)
	in := []*commonpb.Payload{payload(randomBytes(1<<20, 4))}
	roundTrip(t, c, in)
	if st := c.Stats(); st.Retries == 0 || st.StoreErrors != 0 {
		t.Fatalf("retries %d, store errors %d: want retries and no errors", st.Retries, st.StoreErrors)
	}
}

func TestGivesUpWithinTimeout(t *testing.T) {
	fs := &faultStore{Store: memstore.New()}
	c := newCodec(t, fs, codec.Options{Retry: fastRetry, Timeout: 300 * time.Millisecond})
	fs.failFor(time.Hour)
	start := time.Now()
	_, err := c.Encode([]*commonpb.Payload{payload(randomBytes(1<<20, 5))})
	if !errors.Is(err, errInjected) {
		t.Fatalf("Encode against a dead store: %v, want the store's error", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("Encode took %s to give up, want about the 300ms Timeout", el)
	}
	if st := c.Stats(); st.StoreErrors != 1 || st.Retries == 0 {
		t.Fatalf("store errors %d, retries %d; want 1 error after retries", st.StoreErrors, st.Retries)
	}
}

func TestNotFoundIsNotRetried(t *testing.T) {
	writer := newCodec(t, memstore.New(), codec.Options{})
	enc, err := writer.Encode([]*commonpb.Payload{payload(randomBytes(1<<20, 6))})
	if err != nil {
		t.Fatal(err)
	}
	fs := &faultStore{Store: memstore.New()}
	reader := newCodec(t, fs, codec.Options{Retry: fastRetry})
	if _, err := reader.Decode(enc); !errors.Is(err, codec.ErrNotFound) {
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
			key, _ := codec.BlobKey("default", ref.SHA256)
			path, _ := fs.Path(key)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.tamper(b), 0o644); err != nil {
				t.Fatal(err)
			}
			reader := newCodec(t, fs, codec.Options{Retry: fastRetry}) // no cache of the original
			out, err := reader.Decode(enc)
			if !errors.Is(err, codec.ErrCorrupt) {
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
