package sha256chain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"math/bits"
	"sync"
)

// Limiter bounds how many intervals are hashed off the writer's goroutine at once,
// across all the Verifiers that share it, and recycles their buffers. When no slot is
// free an interval is hashed inline, serially and without a copy, so a busy service
// degrades to one pass per body and its memory stays under slots × MaxInterval.
type Limiter struct {
	slots chan struct{}
	bufs  [maxShift - minShift + 1]sync.Pool // one per interval size
}

// NewLimiter returns a Limiter with n slots; n < 1 hashes everything inline.
func NewLimiter(n int) *Limiter {
	return &Limiter{slots: make(chan struct{}, max(n, 0))}
}

// take returns an empty buffer for one interval, or nil when no slot is free.
func (l *Limiter) take(interval int64) []byte {
	if l == nil {
		return nil
	}
	select {
	case l.slots <- struct{}{}:
	default:
		return nil
	}
	if b, ok := l.pool(interval).Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, interval)
}

func (l *Limiter) give(interval int64, b []byte) {
	l.pool(interval).Put(&b)
	<-l.slots
}

func (l *Limiter) pool(interval int64) *sync.Pool {
	return &l.bufs[bits.Len64(uint64(interval))-1-minShift]
}

// Verifier checks a body, written to it in order, against a digest and a chain. With
// no chain it is one serial pass.
type Verifier struct {
	chain Chain
	want  [sha256.Size]byte
	size  int64
	lim   *Limiter

	n      int64     // bytes written
	i      int64     // current interval
	off    int64     // bytes of it written
	h      hash.Hash // current interval hashed inline
	buf    []byte    // current interval, copied for a background hash
	wg     sync.WaitGroup
	failed failures
	over   bool // more bytes than size were written (only the writer's goroutine)
}

// NewVerifier checks a body of size bytes against want; chain must fit the size or be
// the zero Chain, and lim may be nil (everything inline).
func NewVerifier(want [sha256.Size]byte, size int64, chain Chain, lim *Limiter) *Verifier {
	if !chain.Fits(size) {
		chain = Chain{}
	}
	return &Verifier{chain: chain, want: want, size: size, lim: lim}
}

// intervalLen is the length of interval i.
func (v *Verifier) intervalLen(i int64) int64 {
	if v.chain.Interval == 0 {
		return v.size
	}
	return min(v.chain.Interval, v.size-i*v.chain.Interval)
}

// start returns a hash standing where interval i begins, by the claim.
func (v *Verifier) start(i int64) hash.Hash {
	h, ok := v.chain.begin(i)
	if !ok {
		v.failed.record(i, "")
	}
	return h
}

// Write feeds the next bytes of the body; bytes past its size are a mismatch.
func (v *Verifier) Write(p []byte) (int, error) {
	written := len(p)
	if over := v.n + int64(len(p)) - v.size; over > 0 {
		v.over = true
		p = p[:int64(len(p))-over]
	}
	v.n += int64(len(p))
	for len(p) > 0 {
		if v.off == 0 && v.h == nil && v.buf == nil {
			if v.chain.Interval > 0 && !v.chain.last(v.i) {
				v.buf = v.lim.take(v.chain.Interval)
			}
			if v.buf == nil {
				v.h = v.start(v.i)
			}
		}
		end := v.intervalLen(v.i)
		k := min(int64(len(p)), end-v.off)
		if v.buf != nil {
			v.buf = append(v.buf, p[:k]...)
		} else {
			v.h.Write(p[:k])
		}
		v.off += k
		p = p[k:]
		if v.off == end {
			v.finish()
		}
	}
	return written, nil
}

// finish checks the current interval, in the background when it was copied.
func (v *Verifier) finish() {
	i, buf, h := v.i, v.buf, v.h
	v.i, v.off, v.buf, v.h = v.i+1, 0, nil, nil
	if buf == nil {
		v.check(i, h)
		return
	}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		h := v.start(i)
		h.Write(buf)
		v.lim.give(v.chain.Interval, buf)
		v.check(i, h)
	}()
}

// check compares where interval i's hash ended with the claim.
func (v *Verifier) check(i int64, h hash.Hash) {
	if ok, sum := v.chain.reaches(i, h, v.want); !ok {
		v.failed.record(i, sum)
	}
}

// Verify waits for the background hashes and reports whether the whole body matched:
// nil, or an error wrapping ErrMismatch. A body shorter than its size is a mismatch.
func (v *Verifier) Verify() error {
	if v.size == 0 && v.i == 0 {
		v.check(0, sha256.New()) // an empty body has no Write to finish it
		v.i = 1
	}
	v.wg.Wait()
	bad, sum, failed := v.failed.first()
	switch {
	case v.over:
		return fmt.Errorf("%w: body is longer than %d bytes", ErrMismatch, v.size)
	case failed && sum != "" && v.chain.Interval == 0:
		return fmt.Errorf("%w: body sha256 is %s, want %s", ErrMismatch, sum, hex.EncodeToString(v.want[:]))
	case failed:
		return v.chain.intervalErr(bad, v.want)
	case v.n < v.size:
		return fmt.Errorf("%w: body ended after %d of %d bytes", ErrMismatch, v.n, v.size)
	}
	return nil
}

// Wait lets the background hashes finish without a verdict (a body abandoned
// mid-way), so their buffers go back to the Limiter.
func (v *Verifier) Wait() { v.wg.Wait() }
