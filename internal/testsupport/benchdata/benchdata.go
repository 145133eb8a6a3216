// Package benchdata makes the payloads longhaul's benchmark and memory reports use:
// random bytes (incompressible) and text shaped like table rows (compressible about
// 4x), generated in place so that making them costs no more memory than they hold.
package benchdata

import (
	"encoding/binary"
	"math/rand/v2"
)

// Kinds of payload.
const (
	Random = "random"
	Text   = "text"
)

// row is one line of the text payload.
const row = `{"table":"users","id":1234567,"email":"someone@example.com","status":"migrated"}` + "\n"

// Make returns n bytes of kind (Random or Text) from seed; the same arguments give the
// same bytes.
func Make(kind string, n int, seed uint64) []byte {
	b := make([]byte, n)
	switch kind {
	case Random:
		fill(b, seed)
	case Text:
		for i := 0; i < n; i += copy(b[i:], row) {
		}
		fill(b[:n/4], seed) // a quarter incompressible, like real rows with ids
	default:
		panic("benchdata: unknown kind " + kind)
	}
	return b
}

// Stamp writes i into the first 8 bytes of b (if it has them), so each iteration of a
// benchmark stores a new blob instead of deduplicating against the last one.
func Stamp(b []byte, i int) {
	if len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, uint64(i)+0x9e3779b97f4a7c15)
	}
}

func fill(b []byte, seed uint64) {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	_, _ = rand.NewChaCha8(key).Read(b) // never fails
}
