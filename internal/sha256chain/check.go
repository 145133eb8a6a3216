package sha256chain

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"fmt"
	"hash"
	"sync"
)

// The checks both verifiers make, interval by interval.

// last reports whether interval i is a body's last (a zero Chain has one interval).
func (c Chain) last(i int64) bool { return i == int64(len(c.States)) }

// begin returns a hash standing where interval i begins, by the claim; false when the
// claimed state does not load (Parse checked each, so only for a hand-made Chain).
func (c Chain) begin(i int64) (hash.Hash, bool) {
	h := sha256.New()
	if i == 0 {
		return h, true
	}
	return h, h.(encoding.BinaryUnmarshaler).UnmarshalBinary(c.States[i-1]) == nil
}

// reaches reports whether h, having hashed interval i from its claimed start, ends where
// the claim says: in the next state, or, for the last interval, in want (sum is then the
// hex digest h reached, when it differs).
func (c Chain) reaches(i int64, h hash.Hash, want [sha256.Size]byte) (ok bool, sum string) {
	if c.last(i) {
		var got [sha256.Size]byte
		if h.Sum(got[:0]); got != want {
			return false, hex.EncodeToString(got[:])
		}
		return true, ""
	}
	var scratch [128]byte
	st, err := h.(encoding.BinaryAppender).AppendBinary(scratch[:0])
	return err == nil && bytes.Equal(st, c.States[i]), ""
}

// intervalErr is the mismatch of interval i.
func (c Chain) intervalErr(i int64, want [sha256.Size]byte) error {
	return fmt.Errorf("%w: interval %d of %d (%d bytes each) does not hash through the claimed states to %s",
		ErrMismatch, i+1, len(c.States)+1, c.Interval, hex.EncodeToString(want[:]))
}

// failures keeps the first interval that failed, recorded from any goroutine.
type failures struct {
	mu  sync.Mutex
	at  int64  // the failed interval + 1; 0: none
	sum string // the digest reached, when the last interval failed
}

func (f *failures) record(i int64, sum string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.at == 0 || i+1 < f.at {
		f.at, f.sum = i+1, sum
	}
}

func (f *failures) first() (i int64, sum string, failed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.at - 1, f.sum, f.at != 0
}
