package gcsstore

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
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
