package codec_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
	commonpb "go.temporal.io/api/common/v1"
	"lukechampine.com/blake3"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// plantRef is plant for fuzzing: it returns nil when the reference would not be valid.
func plantRef(t testing.TB, s driver.Store, h codec.Hash, b []byte, size, rawSize int64, comp codec.Compression) *commonpb.Payload {
	p, err := reference(h, digestOf(h, b), size, rawSize, comp).Payload()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := codec.ParseReference(p); err != nil {
		return nil
	}
	return plant(t, s, h, b, size, rawSize, comp)
}

// plant stores b under its address of hash h in namespace "default" and returns a
// reference to it with the sizes and compression a forger chose.
func plant(t testing.TB, s driver.Store, h codec.Hash, b []byte, size, rawSize int64, comp codec.Compression) *commonpb.Payload {
	t.Helper()
	ref := reference(h, digestOf(h, b), size, rawSize, comp)
	key, err := ref.Key("default")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(context.Background(), key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	p, err := ref.Payload()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// reference is the reference of version h names to digest, with the claims given.
func reference(h codec.Hash, digest string, size, rawSize int64, comp codec.Compression) codec.Reference {
	r := codec.Reference{V: 2, BLAKE3: digest, Size: size, RawSize: rawSize, Compression: comp}
	if h == codec.SHA256 {
		r = codec.Reference{V: 1, SHA256: digest, Size: size, RawSize: rawSize, Compression: comp}
	}
	return r
}

// digestOf is b's content address under h, computed apart from the codec.
func digestOf(h codec.Hash, b []byte) string {
	if h == codec.SHA256 {
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:])
	}
	sum := blake3.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// hashes are the content addresses every hostile-input test runs for.
var hashes = []codec.Hash{codec.SHA256, codec.BLAKE3}

// allocated runs fn and returns the bytes it allocated.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// sizeHiding hides a store reader's Size, like a driver that cannot tell it.
type sizeHiding struct{ driver.Store }

func (s sizeHiding) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return struct{ io.ReadCloser }{rc}, nil
}

// TestHostileSizeClaims: a reference in history is hostile. Sizes it claims never decide
// an allocation: a claim over MaxSize is refused before the store is asked, and a claim
// far larger than the blob costs no more than the blob.
func TestHostileSizeClaims(t *testing.T) {
	five := []byte("hello")
	fsDir := t.TempDir()
	fstore, err := filestore.New(fsDir)
	if err != nil {
		t.Fatal(err)
	}
	stores := map[string]func() driver.Store{
		"memstore":            func() driver.Store { return memstore.New() },
		"filestore":           func() driver.Store { return fstore },
		"store without sizes": func() driver.Store { return sizeHiding{memstore.New()} },
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			for _, tc := range []struct {
				name          string
				size, rawSize int64
				comp          codec.Compression
				want          error
			}{
				{"size 1 GiB for 5 bytes", 1 << 30, 1 << 30, "none", driver.ErrCorrupt},
				{"size 4 GiB (over MaxSize)", 4 << 30, 4 << 30, "none", codec.ErrInvalidReference},
				{"rawSize 4 GiB (over MaxSize)", 5, 4 << 30, "zstd", codec.ErrInvalidReference},
				{"size max int64", 1<<63 - 1, 1<<63 - 1, "none", codec.ErrInvalidReference},
				{"size 0 for 5 bytes", 0, 0, "none", driver.ErrCorrupt},
				{"zstd claim on plain bytes", 5, 1 << 30, "zstd", driver.ErrCorrupt},
			} {
				for _, h := range hashes {
					t.Run(tc.name+"/"+string(h), func(t *testing.T) {
						s := &faultStore{Store: newStore()}
						ref := plant(t, s, h, five, tc.size, tc.rawSize, tc.comp)
						c := newCodec(t, s, codec.Options{CacheBytes: -1})
						var err error
						n := allocated(func() { _, err = c.Decode([]*commonpb.Payload{ref}) })
						if !errors.Is(err, tc.want) {
							t.Fatalf("Decode: %v, want %v", err, tc.want)
						}
						if n > 4<<20 {
							t.Fatalf("Decode of a 5-byte blob allocated %d bytes", n)
						}
						if errors.Is(tc.want, codec.ErrInvalidReference) && s.count("get") != 0 {
							t.Fatal("the store was asked for a reference over MaxSize")
						}
					})
				}
			}
		})
	}
}

// TestDecompressionBomb: 8 KB of zstd that expands to 256 MiB, named by a reference that
// understates rawSize, fails as corrupt after producing at most rawSize+1 bytes; one that
// states more than MaxSize is refused before reading.
func TestDecompressionBomb(t *testing.T) {
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	// 64 frames of 4 MiB of zeros each: zstd reads concatenated frames as one stream.
	bomb := bytes.Repeat(enc.EncodeAll(make([]byte, 4<<20), nil), 64)
	if len(bomb) > 64<<10 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	for _, tc := range []struct {
		name    string
		rawSize int64
		maxSize int64
		want    error
		bound   uint64
	}{
		// Bounds: the decoder's history window (at most 8 MiB, the codec's limit for a
		// blob's window) plus the output, which stops at rawSize+1 bytes.
		{"rawSize 1000", 1000, 0, driver.ErrCorrupt, 12 << 20},
		{"rawSize 3 MiB", 3 << 20, 0, driver.ErrCorrupt, 24 << 20},
		{"rawSize over MaxSize", 256 << 20, 64 << 20, codec.ErrInvalidReference, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := memstore.New()
			ref := plant(t, s, codec.BLAKE3, bomb, int64(len(bomb)), tc.rawSize, "zstd")
			c := newCodec(t, s, codec.Options{CacheBytes: -1, MaxSize: tc.maxSize})
			var err error
			n := allocated(func() { _, err = c.Decode([]*commonpb.Payload{ref}) })
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode: %v, want %v", err, tc.want)
			}
			if n > tc.bound {
				t.Fatalf("Decode of a bomb allocated %d bytes, want at most %d", n, tc.bound)
			}
		})
	}
}

// TestMaxSizeOnEncode: a payload over MaxSize is refused with ErrTooLarge, nothing stored.
func TestMaxSizeOnEncode(t *testing.T) {
	s := memstore.New()
	c := newCodec(t, s, codec.Options{MaxSize: 1 << 20})
	_, err := c.Encode([]*commonpb.Payload{payload(randomBytes(2<<20, 3))})
	if !errors.Is(err, codec.ErrTooLarge) {
		t.Fatalf("Encode over MaxSize: %v, want ErrTooLarge", err)
	}
	if s.Len() != 0 {
		t.Fatalf("%d blobs stored", s.Len())
	}
	roundTrip(t, c, []*commonpb.Payload{payload(randomBytes(900<<10, 4))})
}

// TestDecodeAllocatesOnce: decoding a large random payload through a store that reports
// its size allocates about one copy of it (the buffer Data aliases), not several.
func TestDecodeAllocatesOnce(t *testing.T) {
	const size = 32 << 20
	fs, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	in := []*commonpb.Payload{payload(randomBytes(size, 5))}
	enc, err := newCodec(t, fs, codec.Options{}).Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	c := newCodec(t, fs, codec.Options{CacheBytes: -1})
	var out []*commonpb.Payload
	n := allocated(func() { out, err = c.Decode(enc) })
	if err != nil || !bytes.Equal(out[0].Data, in[0].Data) {
		t.Fatalf("Decode: %v", err)
	}
	if n > size+size/8 {
		t.Fatalf("Decode of %d bytes allocated %d (%.2fx)", size, n, float64(n)/size)
	}
}

// TestDigestMismatch: bytes under a key that are not what its reference's digest names
// (a forged reference, a blob swapped in the store) are ErrCorrupt for either hash,
// whatever the compression and whether the store tells the size, and never returned.
func TestDigestMismatch(t *testing.T) {
	blob, other := randomBytes(3<<20, 11), randomBytes(3<<20, 12)
	for _, h := range hashes {
		for name, s := range map[string]driver.Store{"memstore": memstore.New(), "store without sizes": sizeHiding{memstore.New()}} {
			t.Run(string(h)+"/"+name, func(t *testing.T) {
				ref := reference(h, digestOf(h, blob), int64(len(blob)), int64(len(blob)), codec.NoCompression)
				key, err := ref.Key("default")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Put(context.Background(), key, bytes.NewReader(other), int64(len(other))); err != nil {
					t.Fatal(err)
				}
				p, err := ref.Payload()
				if err != nil {
					t.Fatal(err)
				}
				out, err := newCodec(t, s, codec.Options{CacheBytes: -1}).Decode([]*commonpb.Payload{p})
				if !errors.Is(err, driver.ErrCorrupt) || out != nil {
					t.Fatalf("Decode of swapped bytes: %v, %v; want ErrCorrupt and nothing", out, err)
				}
			})
		}
	}
}
