package codec_test

import (
	"errors"
	"log/slog"
	"testing"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// FuzzParseReference: any reference data either parses into a reference that passes its
// own checks or fails with ErrInvalidReference; it never panics, and decoding it never
// returns unverified bytes.
func FuzzParseReference(f *testing.F) {
	f.Add([]byte(`{"v":1,"sha256":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","size":1234,"rawSize":5678,"compression":"zstd","encoding":"json/plain"}`))
	f.Add([]byte(`{"v":1,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","size":4,"rawSize":4,"compression":"none"}`))
	f.Add([]byte(`{"v":2,"blake3":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","size":1234,"rawSize":5678,"compression":"zstd"}`))
	f.Add([]byte(`{"v":2,"blake3":"af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262","size":0,"rawSize":0,"compression":"none"}`))
	f.Add([]byte(`{"v":2,"sha256":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","size":1,"rawSize":1,"compression":"none"}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`{"v":3}`))
	f.Add([]byte(`{"v":1,"size":-1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"v":1e400}`))
	c, err := codec.New(memstore.New(), codec.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/longhaul-ref")}, Data: data}
		ref, err := codec.ParseReference(p)
		if err != nil {
			if !errors.Is(err, codec.ErrInvalidReference) {
				t.Fatalf("ParseReference error %v is not ErrInvalidReference", err)
			}
			return
		}
		v1 := ref.V == 1 && len(ref.SHA256) == 64 && ref.BLAKE3 == ""
		v2 := ref.V == 2 && len(ref.BLAKE3) == 64 && ref.SHA256 == ""
		if !v1 && !v2 || ref.Size < 0 || ref.RawSize < 0 {
			t.Fatalf("ParseReference accepted an invalid reference %+v", ref)
		}
		// The store is empty: decoding must fail, never invent a payload.
		if out, err := c.Decode([]*commonpb.Payload{p}); err == nil {
			t.Fatalf("Decode of an unstored reference succeeded: %v", out)
		}
	})
}

// FuzzReferenceSizes: a stored blob named by a reference with any sizes and compression
// a forger picks decodes only when every claim is true, fails with ErrCorrupt or
// ErrInvalidReference otherwise, and never costs more memory than MaxSize allows.
func FuzzReferenceSizes(f *testing.F) {
	good, err := codec.New(memstore.New(), codec.Options{Threshold: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("hello"), int64(5), int64(5), false, false)
	f.Add([]byte("hello"), int64(5), int64(5), false, true)
	f.Add([]byte("hello"), int64(1<<30), int64(1<<30), false, true)
	f.Add([]byte("hello"), int64(5), int64(1<<62), true, false)
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x00, 0x41, 0x00, 0x00}, int64(9), int64(1<<20), true, true)
	f.Add([]byte("hello"), int64(-1), int64(1<<63-1), true, true)
	const maxSize = 1 << 20
	f.Fuzz(func(t *testing.T, blob []byte, size, rawSize int64, zstd, v2 bool) {
		s := memstore.New()
		h := codec.SHA256
		if v2 {
			h = codec.BLAKE3
		}
		comp := codec.NoCompression
		if zstd {
			comp = codec.Zstd
		}
		ref := plantRef(t, s, h, blob, size, rawSize, comp)
		if ref == nil {
			return // not a valid reference: ParseReference's fuzz target covers it
		}
		c, err := codec.New(s, codec.Options{CacheBytes: -1, MaxSize: maxSize, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		var out []*commonpb.Payload
		n := allocated(func() { out, err = c.Decode([]*commonpb.Payload{ref}) })
		if n > 4*maxSize+16<<20 {
			t.Fatalf("Decode allocated %d bytes for a %d-byte blob (MaxSize %d)", n, len(blob), maxSize)
		}
		if err != nil {
			if !errors.Is(err, driver.ErrCorrupt) && !errors.Is(err, codec.ErrInvalidReference) {
				t.Fatalf("Decode: %v, want ErrCorrupt or ErrInvalidReference", err)
			}
			return
		}
		// It decoded: then the claims were true, and encoding the result again gives the
		// same stored size and raw size.
		if size != int64(len(blob)) {
			t.Fatalf("decoded with size %d for a %d-byte blob", size, len(blob))
		}
		if _, err := good.Encode(out); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
	})
}
