package payloadsvc

import (
	"encoding/hex"
	"errors"
	"fmt"
	"hash"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/internal/contenthash"
)

// hashBatch is how much of a body a blake3Check hands BLAKE3 at once, at least: a
// request body arrives in reads of what the socket holds (a store copying through
// io.Copy's buffer takes 32 KiB at a time), and a batch of 1 MiB makes one hand-off to
// the hashing goroutine per MiB instead of one per read.
const hashBatch = 1 << 20

// maxBatchSlots bounds the blake3Checks that batch small reads at once: each holds two
// batches, 16 MiB in all; the others hash each read as it comes.
const maxBatchSlots = 8

// errBlake3Mismatch is returned (wrapped) by a blake3Check's Verify when the body does
// not hash to the digest of its address.
var errBlake3Mismatch = errors.New("payloadsvc: body does not match its blake3 digest")

// batchSlots bounds the batches of blake3Checks across all PUTs and recycles them. When
// no slot is free a check hashes each read as it comes, so memory stays under
// slots × 2 × hashBatch whatever the load (a slot's batches are made when it is first
// taken and kept).
type batchSlots struct {
	free chan *[2][]byte // one per slot; nil until first taken
}

func newBatchSlots(n int) *batchSlots {
	s := &batchSlots{free: make(chan *[2][]byte, max(n, 0))}
	for range cap(s.free) {
		s.free <- nil
	}
	return s
}

// take returns a slot's two empty batches, or nil when no slot is free.
func (s *batchSlots) take() *[2][]byte {
	if s == nil {
		return nil
	}
	select {
	case p := <-s.free:
		if p == nil {
			p = &[2][]byte{make([]byte, 0, hashBatch), make([]byte, 0, hashBatch)}
		}
		return p
	default:
		return nil
	}
}

func (s *batchSlots) give(p *[2][]byte) { s.free <- p }

// blake3Check verifies a PUT body, written to it in order, against a BLAKE3 digest,
// keeping up with the wire: the hash runs on another core than the reads where it can.
// Small writes are copied into a batch, and a full batch is hashed by a goroutine beside
// the writes, so the next batch is read meanwhile. A write of a batch or more (a store
// reading into a large buffer gets what the socket holds, often MiBs) is hashed in place
// once the goroutine is done, without a copy. Without a slot (every one taken, or a body
// of one batch or less) each write is hashed as it comes.
type blake3Check struct {
	want    [contenthash.Size]byte
	size, n int64
	over    bool // more bytes than size were written
	h       hash.Hash
	slots   *batchSlots
	noBatch bool // hash each write as it comes

	pair     *[2][]byte    // the slot's batches; nil until a small write needs one
	batch    []byte        // being filled; nil: none
	spare    [][]byte      // neither being filled nor hashed
	inFlight int           // sent to the goroutine, not back yet
	work     chan []byte   // full batches for the goroutine; nil until the first
	hashed   chan []byte   // batches the goroutine has hashed
	done     chan struct{} // closed when the goroutine has ended
}

func newBlake3Check(want [contenthash.Size]byte, size int64, slots *batchSlots) *blake3Check {
	h, _ := contenthash.New(driver.BLAKE3) // a known name: never fails
	return &blake3Check{want: want, size: size, h: h, slots: slots, noBatch: size <= hashBatch}
}

// Write feeds the next bytes of the body; bytes past its size are a mismatch.
func (c *blake3Check) Write(p []byte) (int, error) {
	written := len(p)
	if left := c.size - c.n; int64(len(p)) > left {
		p, c.over = p[:left], true
	}
	c.n += int64(len(p))
	for len(p) > 0 {
		if len(c.batch) == 0 && (len(p) >= hashBatch || c.noBatch) {
			c.idle()
			c.h.Write(p)
			return written, nil
		}
		if c.batch == nil && !c.nextBatch() {
			c.noBatch = true
			continue
		}
		k := copy(c.batch[len(c.batch):cap(c.batch)], p)
		c.batch, p = c.batch[:len(c.batch)+k], p[k:]
		if len(c.batch) == cap(c.batch) {
			c.send()
		}
	}
	return written, nil
}

// nextBatch starts an empty batch: a spare one, else the next the goroutine hands back;
// false when no slot is free.
func (c *blake3Check) nextBatch() bool {
	if c.pair == nil {
		if c.pair = c.slots.take(); c.pair == nil {
			return false
		}
		c.spare = append(c.spare, c.pair[0], c.pair[1])
	}
	if len(c.spare) == 0 {
		c.spare = append(c.spare, <-c.hashed)
		c.inFlight--
	}
	c.batch, c.spare = c.spare[len(c.spare)-1][:0], c.spare[:len(c.spare)-1]
	return true
}

// send hands the full batch to the goroutine, started on the first.
func (c *blake3Check) send() {
	if c.work == nil {
		c.work, c.hashed, c.done = make(chan []byte, 2), make(chan []byte, 2), make(chan struct{})
		go func() {
			defer close(c.done)
			for b := range c.work {
				c.h.Write(b)
				c.hashed <- b
			}
		}()
	}
	c.work <- c.batch
	c.batch = nil
	c.inFlight++
}

// idle waits until the goroutine has hashed every batch sent, so the hash is this
// goroutine's to write.
func (c *blake3Check) idle() {
	for ; c.inFlight > 0; c.inFlight-- {
		c.spare = append(c.spare, <-c.hashed)
	}
}

// Wait hashes what is left of the batch, ends the goroutine and gives the slot back; it
// is all Verify waits for, and what a body abandoned mid-way needs.
func (c *blake3Check) Wait() {
	c.idle()
	if c.batch != nil {
		c.h.Write(c.batch)
		c.batch = nil
	}
	if c.work != nil {
		close(c.work)
		<-c.done
		c.work = nil
	}
	if c.pair != nil {
		c.pair[0], c.pair[1] = c.pair[0][:0], c.pair[1][:0]
		c.slots.give(c.pair)
		c.pair, c.spare = nil, nil
	}
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
