package contenthash_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/internal/contenthash"
)

// input is the official test vectors' input: bytes 0, 1, ..., 250, 0, 1, ...
func input(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// TestKnownAnswers checks both hashes against published vectors (BLAKE3's official
// test_vectors.json, unkeyed, first 32 bytes; SHA-256's FIPS 180-2 "abc"), including inputs
// long enough for BLAKE3 to hash subtrees in parallel.
func TestKnownAnswers(t *testing.T) {
	for _, tc := range []struct {
		alg  string
		in   []byte
		want string
	}{
		{driver.BLAKE3, input(0), "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},
		{driver.BLAKE3, input(1), "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"},
		{driver.BLAKE3, input(1024), "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"},
		{driver.BLAKE3, input(1025), "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"},
		{driver.BLAKE3, input(31744), "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47"},
		{driver.SHA256, []byte("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	} {
		h, err := contenthash.New(tc.alg)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(tc.in)
		if got := contenthash.Hex(h); got != tc.want {
			t.Errorf("%s of %d bytes = %s, want %s", tc.alg, len(tc.in), got, tc.want)
		}
	}
}

// TestWriteSizesAgree: one large Write (hashed on all cores) and many small ones give the
// same digest, so the address does not depend on how a caller feeds the bytes.
func TestWriteSizesAgree(t *testing.T) {
	b := make([]byte, 9<<20+12345)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	whole, _ := contenthash.New(driver.BLAKE3)
	whole.Write(b)
	pieces, _ := contenthash.New(driver.BLAKE3)
	for rest := b; len(rest) > 0; {
		n := min(len(rest), 1000+rand.IntN(300<<10))
		pieces.Write(rest[:n])
		rest = rest[n:]
	}
	if a, b := contenthash.Hex(whole), contenthash.Hex(pieces); a != b {
		t.Fatalf("one write %s, many writes %s", a, b)
	}
}

func TestUnknownAlgorithm(t *testing.T) {
	for _, alg := range []string{"", "md5", "SHA256", "blake3 "} {
		if _, err := contenthash.New(alg); !errors.Is(err, driver.ErrInvalidKey) {
			t.Errorf("New(%q): %v, want ErrInvalidKey", alg, err)
		}
	}
}
