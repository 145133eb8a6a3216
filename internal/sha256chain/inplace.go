package sha256chain

import (
	"crypto/sha256"
	"fmt"
	"sync"
)

// InPlace verifies a body read into one buffer that is never overwritten (a reader's
// final buffer): each interval is hashed where it lies as soon as it has arrived, on up
// to workers goroutines at once, so no byte is copied and only the last interval is
// hashed after the body has arrived. When every worker is busy, the caller's goroutine
// hashes the interval itself.
type InPlace struct {
	chain Chain
	want  [sha256.Size]byte
	buf   []byte
	sem   chan struct{}

	n      int64 // bytes of buf filled
	next   int64 // next interval to hash
	wg     sync.WaitGroup
	failed failures
}

// NewInPlace checks the body that will fill buf[:cap(buf)] against want through chain,
// which must fit cap(buf) (else there is nothing to check in parallel: use a Verifier).
func NewInPlace(want [sha256.Size]byte, chain Chain, buf []byte, workers int) (*InPlace, error) {
	if !chain.Fits(int64(cap(buf))) {
		return nil, fmt.Errorf("%w: chain does not fit a body of %d bytes", ErrMalformed, cap(buf))
	}
	return &InPlace{chain: chain, want: want, buf: buf[:cap(buf)], sem: make(chan struct{}, max(workers, 1))}, nil
}

// Advance says that buf[:n] holds the body's first n bytes and will not change.
func (v *InPlace) Advance(n int64) {
	v.n = min(n, int64(len(v.buf)))
	iv := v.chain.Interval
	for v.next <= int64(len(v.chain.States)) && min((v.next+1)*iv, int64(len(v.buf))) <= v.n {
		i := v.next
		v.next++
		part := v.buf[i*iv : min((i+1)*iv, int64(len(v.buf)))]
		select {
		case v.sem <- struct{}{}:
			v.wg.Add(1)
			go func() {
				defer v.wg.Done()
				v.hash(i, part)
				<-v.sem
			}()
		default:
			v.hash(i, part)
		}
	}
}

func (v *InPlace) hash(i int64, part []byte) {
	h, ok := v.chain.begin(i)
	if ok {
		h.Write(part)
		ok, _ = v.chain.reaches(i, h, v.want)
	}
	if !ok {
		v.failed.record(i, "")
	}
}

// Verify waits for the hashes and reports whether the whole body matched: nil, or an
// error wrapping ErrMismatch (also when fewer bytes than the buffer holds arrived). A
// mismatch may be the chain's fault rather than the body's: a caller that got the chain
// from someone it does not trust with the bytes either hashes the body serially to
// tell (the chain is only an aid).
func (v *InPlace) Verify() error {
	v.wg.Wait()
	if v.n < int64(len(v.buf)) {
		return fmt.Errorf("%w: body ended after %d of %d bytes", ErrMismatch, v.n, len(v.buf))
	}
	if bad, _, failed := v.failed.first(); failed {
		return v.chain.intervalErr(bad, v.want)
	}
	return nil
}
