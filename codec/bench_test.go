package codec_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"testing"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// BenchmarkRoundTrip: Encode then Decode of one payload with memstore, a fresh store and
// no cache each time, so every iteration compresses, hashes, stores, fetches, verifies and
// decompresses. Compare MB/s with BenchmarkSHA256 from the same run.
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20, 16 << 20, 64 << 20} {
		for _, kind := range []string{"random", "text"} {
			if size == 1<<10 && kind == "text" {
				continue
			}
			data := benchData(kind, size)
			b.Run(fmt.Sprintf("%s/%s", sizeName(size), kind), func(b *testing.B) {
				in := []*commonpb.Payload{payload(data)}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					// Threshold 512 so that the 1 KiB case is offloaded too.
					c, err := codec.New(memstore.New(), codec.Options{Threshold: 512, CacheBytes: -1, Logger: slog.New(slog.DiscardHandler)})
					if err != nil {
						b.Fatal(err)
					}
					enc, err := c.Encode(in)
					if err != nil {
						b.Fatal(err)
					}
					if !codec.IsReference(enc[0]) {
						b.Fatal("not offloaded")
					}
					if _, err := c.Decode(enc); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSHA256 is the floor: a round trip hashes the stored bytes twice.
func BenchmarkSHA256(b *testing.B) {
	data := benchData("random", 16<<20)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		sha256.Sum256(data)
	}
}

func benchData(kind string, n int) []byte {
	if kind == "text" {
		line := []byte(`{"table":"users","id":1234567,"email":"someone@example.com","status":"migrated"}` + "\n")
		b := bytes.Repeat(line, n/len(line)+1)[:n]
		copy(b, randomBytes(n/4, 11)) // a quarter incompressible, like real rows with ids
		return b
	}
	return randomBytes(n, 12)
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}
