// Package contenthash gives the hashes of content addresses by the names keys and
// references spell them (driver.SHA256, driver.BLAKE3), so each caller that hashes
// stored bytes (the codec's address and reader check, the payload service's check of a
// PUT) picks the same implementation.
package contenthash

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"

	"lukechampine.com/blake3"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// Size is the digest length of every content-address hash, in bytes.
const Size = 32

// New returns a fresh hash of algorithm. BLAKE3's hashes a large Write on all cores (it
// is a tree: subtrees of a Write are hashed in parallel), so callers should hand it
// large slices.
func New(algorithm string) (hash.Hash, error) {
	switch algorithm {
	case driver.SHA256:
		return sha256.New(), nil
	case driver.BLAKE3:
		return blake3.New(Size, nil), nil
	}
	return nil, fmt.Errorf("%w: hash %q is none of %q, %q", driver.ErrInvalidKey, algorithm, driver.SHA256, driver.BLAKE3)
}

// Hex returns h's digest in lowercase hex, as keys spell it.
func Hex(h hash.Hash) string {
	var sum [64]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}
