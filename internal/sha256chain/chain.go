// Package sha256chain checks one SHA-256 digest on several cores.
//
// SHA-256 is a chain: each 64-byte block updates a fixed-size state. A writer that has
// hashed a body anyway records the state every Interval bytes (crypto/sha256's
// marshaled form, which also holds the length so far). A verifier then hashes every
// interval at once, each from its claimed starting state, and requires each to end in
// the next claimed state and the last to end in the expected digest. The first
// starting state is the hash's own initial state, so by induction every claimed state
// that passes is the true one and the body's digest is the expected one: the check is
// exactly as strong as one serial pass, and a false claim can only make it fail.
//
// payloadsvc uses it so that the service's check of a PUT body, the one hash pass of
// the round trip that nothing else overlaps, runs on all cores.
package sha256chain

import (
	"crypto/sha256"
	"encoding"
	"encoding/base64"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Header is the HTTP request header a chain travels in:
// "<interval> <base64 state> <base64 state> ...".
const Header = "Longhaul-Sha256-Chain"

const (
	// MinInterval and MaxInterval bound the intervals a verifier accepts; an interval
	// is a power of two.
	MinInterval = 1 << minShift
	MaxInterval = 1 << maxShift
	minShift    = 20
	maxShift    = 24
	// startInterval is where IntervalFor starts: a state (108 bytes) per MiB costs
	// nothing, and the last interval, which is checked only after the body has arrived,
	// stays a small share of it.
	startInterval = MinInterval
	// targetStates: IntervalFor doubles the interval (up to MaxInterval) to keep a
	// chain about this short (a header of about 9 KiB).
	targetStates = 64
	// MaxStates is the longest chain: 18 KiB as a header, well under the 64 KiB of
	// headers payloadsvc accepts. Bodies over (MaxStates+1)·MaxInterval (2 GiB) have none.
	MaxStates = 128
)

// stateLen is the length of a marshaled SHA-256 state.
var stateLen = func() int {
	b, err := sha256.New().(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic("sha256chain: " + err.Error())
	}
	return len(b)
}()

// ErrMalformed is returned (wrapped) by Parse for a chain that is not well formed or
// does not fit the body's size.
var ErrMalformed = errors.New("sha256chain: malformed chain")

// ErrMismatch is returned (wrapped) by Verify when the body does not hash to the
// expected digest through the claimed states.
var ErrMismatch = errors.New("sha256chain: body does not match its digest")

// Chain is what a writer recorded: the SHA-256 state after Interval, 2·Interval, ...
// bytes of a body, for every interval boundary strictly inside it.
type Chain struct {
	Interval int64
	States   [][]byte
}

// IntervalFor returns the interval to record for a body of size bytes, or 0 when the
// body fits in one interval and a chain would not help.
func IntervalFor(size int64) int64 {
	iv := int64(startInterval)
	for iv < MaxInterval && size > targetStates*iv {
		iv *= 2
	}
	if size <= iv || chunks(size, iv)-1 > MaxStates {
		return 0
	}
	return iv
}

// chunks is the number of intervals a body of size bytes spans.
func chunks(size, interval int64) int64 {
	return (size + interval - 1) / interval
}

// Sum hashes pieces (one body, in order) and records its chain at interval, none when
// interval is 0.
func Sum(pieces [][]byte, interval int64) ([sha256.Size]byte, Chain) {
	h := sha256.New()
	var sum [sha256.Size]byte
	if interval <= 0 {
		for _, p := range pieces {
			h.Write(p)
		}
		h.Sum(sum[:0])
		return sum, Chain{}
	}
	var total int64
	for _, p := range pieces {
		total += int64(len(p))
	}
	c := Chain{Interval: interval, States: make([][]byte, 0, max(chunks(total, interval)-1, 0))}
	var off int64
	next := interval
	for _, p := range pieces {
		for len(p) > 0 {
			n := min(int64(len(p)), next-off)
			h.Write(p[:n])
			off += n
			p = p[n:]
			if off == next && off < total {
				st, err := h.(encoding.BinaryAppender).AppendBinary(make([]byte, 0, stateLen))
				if err != nil {
					panic("sha256chain: " + err.Error()) // crypto/sha256 never fails to marshal
				}
				c.States = append(c.States, st)
				next += interval
			}
		}
	}
	h.Sum(sum[:0])
	return sum, c
}

// Format renders c as the Header value.
func (c Chain) Format() string {
	var b strings.Builder
	b.Grow(20 + len(c.States)*(1+base64.StdEncoding.EncodedLen(stateLen)))
	b.WriteString(strconv.FormatInt(c.Interval, 10))
	for _, st := range c.States {
		b.WriteByte(' ')
		b.WriteString(base64.StdEncoding.EncodeToString(st))
	}
	return b.String()
}

// Fits reports whether c is a chain for a body of size bytes.
func (c Chain) Fits(size int64) bool {
	return c.Interval > 0 && int64(len(c.States)) == chunks(size, c.Interval)-1
}

// Parse reads a Header value for a body of size bytes. It is hostile input: the number
// of states must be exactly what the size and interval give, so nothing is allocated
// beyond what that count needs, and each state must be a well-formed SHA-256 state.
func Parse(v string, size int64) (Chain, error) {
	ivText, rest, _ := strings.Cut(v, " ")
	iv, err := strconv.ParseInt(ivText, 10, 64)
	if err != nil || iv < MinInterval || iv > MaxInterval || bits.OnesCount64(uint64(iv)) != 1 {
		return Chain{}, fmt.Errorf("%w: interval %.20q is not a power of two in [%d, %d]", ErrMalformed, ivText, MinInterval, MaxInterval)
	}
	want := chunks(size, iv) - 1
	switch {
	case want < 1:
		return Chain{}, fmt.Errorf("%w: a body of %d bytes is one interval of %d; it has no chain", ErrMalformed, size, iv)
	case want > MaxStates:
		return Chain{}, fmt.Errorf("%w: a body of %d bytes at interval %d needs %d states, over the %d allowed", ErrMalformed, size, iv,
			want, MaxStates)
	}
	if got := int64(strings.Count(rest, " ")) + 1; got != want {
		return Chain{}, fmt.Errorf("%w: %d states for a body of %d bytes at interval %d, want %d", ErrMalformed, got, size, iv, want)
	}
	c := Chain{Interval: iv, States: make([][]byte, 0, want)}
	encLen := base64.StdEncoding.EncodedLen(stateLen)
	for i := range want {
		field, tail, _ := strings.Cut(rest, " ")
		rest = tail
		if len(field) != encLen {
			return Chain{}, fmt.Errorf("%w: state %d is %d characters, want %d", ErrMalformed, i+1, len(field), encLen)
		}
		st, err := base64.StdEncoding.DecodeString(field)
		if err == nil {
			err = sha256.New().(encoding.BinaryUnmarshaler).UnmarshalBinary(st)
		}
		if err != nil || len(st) != stateLen {
			return Chain{}, fmt.Errorf("%w: state %d is not a SHA-256 state", ErrMalformed, i+1)
		}
		c.States = append(c.States, st)
	}
	return c, nil
}
