package codec_test

import (
	"errors"
	"log/slog"
	"testing"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// FuzzParseReference: any reference data either parses into a reference that passes its
// own checks or fails with ErrInvalidReference; it never panics, and decoding it never
// returns unverified bytes.
func FuzzParseReference(f *testing.F) {
	f.Add([]byte(`{"v":1,"sha256":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","size":1234,"rawSize":5678,"compression":"zstd","encoding":"json/plain"}`))
	f.Add([]byte(`{"v":1,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","size":4,"rawSize":4,"compression":"none"}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`{"v":1,"size":-1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"v":1e400}`))
	c, err := codec.New(memstore.New(), codec.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(codec.RefEncoding)}, Data: data}
		ref, err := codec.ParseReference(p)
		if err != nil {
			if !errors.Is(err, codec.ErrInvalidReference) {
				t.Fatalf("ParseReference error %v is not ErrInvalidReference", err)
			}
			return
		}
		if ref.V != 1 || len(ref.SHA256) != 64 || ref.Size < 0 || ref.RawSize < 0 {
			t.Fatalf("ParseReference accepted an invalid reference %+v", ref)
		}
		// The store is empty: decoding must fail, never invent a payload.
		if out, err := c.Decode([]*commonpb.Payload{p}); err == nil {
			t.Fatalf("Decode of an unstored reference succeeded: %v", out)
		}
	})
}
