package payloadsvc

import (
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/internal/contenthash"
)

// hashBatch is how much of a body a blake3Check hands BLAKE3 at once. A request body
// arrives in reads of what the socket holds (tens of KiB), and BLAKE3 spreads a Write
// over the cores only by its subtrees of 16 KiB; a batch of 1 MiB gives every core
// dozens of them, and costs one copy at memory speed.
const hashBatch = 1 << 20

// maxBatchSlots bounds the blake3Checks that hash beside their reads at once: each holds
// two batches, so at most 16 MiB whatever the load; the others hash inline.
const maxBatchSlots = 8

// errBlake3Mismatch is returned (wrapped) by a blake3Check's Verify when the body does
// not hash to the digest of its address.
var errBlake3Mismatch = errors.New("payloadsvc: body does not match its blake3 digest")

// batchSlots bounds the blake3Checks that hash in batches beside the reads, across all
// PUTs, and recycles their batches. When no slot is free a check hashes each read inline,
// serially and without a copy, so a busy service degrades to one pass per body on the
// request's goroutine (the cores are busy then anyway).
type batchSlots struct {
	slots chan struct{}
	bufs  sync.Pool
}

func newBatchSlots(n int) *batchSlots {
	return &batchSlots{slots: make(chan struct{}, max(n, 0))}
}

// take returns the two empty batches of a slot, or false when none is free.
func (s *batchSlots) take() (a, b []byte, ok bool) {
	if s == nil {
		return nil, nil, false
	}
	select {
	case s.slots <- struct{}{}:
	default:
		return nil, nil, false
	}
	return s.get(), s.get(), true
}

func (s *batchSlots) get() []byte {
	if b, ok := s.bufs.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, hashBatch)
}

// give returns a slot's batches.
func (s *batchSlots) give(a, b []byte) {
	s.bufs.Put(&a)
	s.bufs.Put(&b)
	<-s.slots
}

// blake3Check verifies a PUT body, written to it in order, against a BLAKE3 digest. With
// a slot it copies the body into batches and hashes each in a goroutine beside the reads,
// so the next batch is read while the last is hashed on all cores; without one (a body
// of one batch or less, or every slot taken) it hashes each write inline.
type blake3Check struct {
	want    [contenthash.Size]byte
	size, n int64
	over    bool // more bytes than size were written
	h       hash.Hash
	slots   *batchSlots

	batch  []byte        // being filled; nil: take one from free
	free   chan []byte   // the slot's empty batches
	work   chan []byte   // full batches for the hashing goroutine; nil: inline
	done   chan struct{} // closed when the goroutine has hashed all of work
	closed bool
}

func newBlake3Check(want [contenthash.Size]byte, size int64, slots *batchSlots) *blake3Check {
	h, _ := contenthash.New(driver.BLAKE3) // a known name: never fails
	c := &blake3Check{want: want, size: size, h: h, slots: slots}
	if size <= hashBatch {
		return c
	}
	a, b, ok := slots.take()
	if !ok {
		return c
	}
	c.free, c.work, c.done = make(chan []byte, 2), make(chan []byte, 2), make(chan struct{})
	c.free <- a
	c.free <- b
	go c.hashBatches()
	return c
}

// hashBatches hashes the full batches in order and hands each back to be filled again.
func (c *blake3Check) hashBatches() {
	defer close(c.done)
	for b := range c.work {
		c.h.Write(b)
		c.free <- b[:0]
	}
}

// Write feeds the next bytes of the body; bytes past its size are a mismatch.
func (c *blake3Check) Write(p []byte) (int, error) {
	written := len(p)
	if over := c.n + int64(len(p)) - c.size; over > 0 {
		c.over = true
		p = p[:int64(len(p))-over]
	}
	c.n += int64(len(p))
	if c.work == nil {
		c.h.Write(p)
		return written, nil
	}
	for len(p) > 0 {
		if c.batch == nil {
			c.batch = <-c.free
		}
		k := copy(c.batch[len(c.batch):cap(c.batch)], p)
		c.batch, p = c.batch[:len(c.batch)+k], p[k:]
		if len(c.batch) == cap(c.batch) {
			c.work <- c.batch
			c.batch = nil
		}
	}
	return written, nil
}

// Wait hashes what was written and gives the slot back; it is all Verify waits for, and
// what a body abandoned mid-way needs.
func (c *blake3Check) Wait() {
	if c.closed || c.work == nil {
		c.closed = true
		return
	}
	c.closed = true
	if c.batch != nil {
		c.work <- c.batch
		c.batch = nil
	}
	close(c.work)
	<-c.done
	c.slots.give(<-c.free, <-c.free)
}

// Verify reports whether the whole body matched: nil, or an error wrapping
// errBlake3Mismatch. A body shorter than its size is a mismatch.
func (c *blake3Check) Verify() error {
	c.Wait()
	var got [contenthash.Size]byte
	c.h.Sum(got[:0])
	switch {
	case c.over:
		return fmt.Errorf("%w: body is longer than %d bytes", errBlake3Mismatch, c.size)
	case c.n < c.size:
		return fmt.Errorf("%w: body ended after %d of %d bytes", errBlake3Mismatch, c.n, c.size)
	case got != c.want:
		return fmt.Errorf("%w: body blake3 is %s, want %s", errBlake3Mismatch, hex.EncodeToString(got[:]), hex.EncodeToString(c.want[:]))
	}
	return nil
}
