package gcsstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"hash"
	"hash/crc32"
	"math/rand/v2"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

// TestCRC32CCombine: the CRC32C of A+B from the parts' CRCs equals the CRC32C of the
// whole, as GCS computes it for a composed object.
func TestCRC32CCombine(t *testing.T) {
	data := make([]byte, 3<<20)
	rand.NewChaCha8([32]byte{1}).Read(data)
	for _, cut := range []int{0, 1, 7, 1000, 1 << 20, len(data) - 1, len(data)} {
		a, b := data[:cut], data[cut:]
		got := crc32cCombine(crc32.Checksum(a, castagnoli), crc32.Checksum(b, castagnoli), int64(len(b)))
		if want := crc32.Checksum(data, castagnoli); got != want {
			t.Errorf("cut at %d: combined %08x, want %08x", cut, got, want)
		}
	}
}

// BenchmarkUploadChecksum compares, in one run, the checksums of a 16 MiB part as the
// store computes them now (CRC32C alone) and before (CRC32C and MD5).
func BenchmarkUploadChecksum(b *testing.B) {
	data := make([]byte, 16<<20)
	rand.NewChaCha8([32]byte{2}).Read(data)
	ra := bytes.NewReader(data)
	for _, bc := range []struct {
		name string
		hs   func() []hash.Hash
	}{
		{"CRC32C", func() []hash.Hash { return []hash.Hash{crc32.New(castagnoli)} }},
		{"CRC32C+MD5", func() []hash.Hash { return []hash.Hash{crc32.New(castagnoli), md5.New()} }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := blobxfer.Hash(context.Background(), ra, 0, int64(len(data)), bc.hs()...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
