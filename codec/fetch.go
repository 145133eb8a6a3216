package codec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
)

// readChunk is how much is read and hashed at a time: small enough that the bytes are
// still in cache when the hash reads them.
const readChunk = 256 << 10

// Resolve returns the payload a reference stands for: from the cache, else fetched,
// verified against its SHA-256 while it is read, decompressed and unmarshalled with its
// Data aliasing the read buffer (no further copy). A payload that is not a reference is
// returned as is. A reference whose sizes are over Options.MaxSize is
// ErrInvalidReference before anything is read.
func (c *Codec) Resolve(ctx context.Context, p *commonpb.Payload) (*commonpb.Payload, error) {
	if !IsReference(p) {
		return c.resolveForeign(ctx, p)
	}
	ref, err := ParseReference(p)
	if err != nil {
		return nil, fmt.Errorf("codec decode: %w", err)
	}
	if err := c.checkLimits(ref); err != nil {
		return nil, err
	}
	if cached, ok := c.cache.get(c.cacheKey(ref.SHA256)); ok {
		c.ctr.add(&c.ctr.cacheHits, 1)
		c.ctr.add(&c.ctr.payloadsDecoded, 1)
		return cached, nil
	}
	if c.cache != nil {
		c.ctr.add(&c.ctr.cacheMisses, 1)
	}
	raw, err := c.load(ctx, ref)
	if err != nil {
		return nil, err
	}
	out, err := unmarshalAliased(raw)
	if err != nil {
		return nil, c.corrupt(ref, fmt.Errorf("unmarshal payload: %v", err))
	}
	c.ctr.add(&c.ctr.payloadsDecoded, 1)
	c.cache.put(c.cacheKey(ref.SHA256), out)
	return out, nil
}

// checkLimits refuses a reference that claims more than this codec will ever read.
func (c *Codec) checkLimits(ref Reference) error {
	if ref.Size > c.opts.MaxSize || ref.RawSize > c.opts.MaxSize {
		return fmt.Errorf("codec decode: %w: sha256 %s: size %d / rawSize %d over Options.MaxSize (%d)", ErrInvalidReference, ref.SHA256, ref.Size, ref.RawSize, c.opts.MaxSize)
	}
	return nil
}

// cacheKey scopes cache entries to the namespace: codecs made by WithNamespace share one
// cache, and a digest seen in one namespace must not be readable from another.
func (c *Codec) cacheKey(digest string) string { return c.opts.Namespace + "/" + digest }

func (c *Codec) corrupt(ref Reference, why error) error {
	key, _ := BlobKey(c.opts.Namespace, ref.SHA256)
	return c.storeErr("get", ref.SHA256, fmt.Errorf("%w: key %s: %v", ErrCorrupt, key, why))
}

// Fetch reads the stored bytes of a reference and verifies their length and SHA-256
// before returning them. Mismatches are ErrCorrupt; a missing blob is ErrNotFound; sizes
// over Options.MaxSize are ErrInvalidReference.
func (c *Codec) Fetch(ctx context.Context, ref Reference) ([]byte, error) {
	if err := c.checkLimits(ref); err != nil {
		return nil, err
	}
	none := ref
	none.Compression = compressionNone
	none.RawSize = ref.Size
	return c.load(ctx, none)
}

// load reads the blob of ref and returns the serialized payload, hashing the stored
// bytes as they arrive and decompressing them on the way. Memory is bounded by what the
// store really holds and what ref allows, never by a size the reference claims alone.
func (c *Codec) load(ctx context.Context, ref Reference) (raw []byte, err error) {
	ctx, op := c.traceStart(ctx, OpFetch, ref.SHA256)
	defer func() { op.end(err) }()
	key, err := BlobKey(c.opts.Namespace, ref.SHA256)
	if err != nil {
		return nil, fmt.Errorf("codec decode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	getStart := op.clock()
	rc, err := c.store.Get(ctx, key)
	op.stored(ref.SHA256, ref.RawSize, ref.Size, ref.Compression, getStart)
	if err != nil {
		return nil, c.storeErr("get", ref.SHA256, err)
	}
	defer rc.Close()
	stored := int64(-1) // unknown
	if s, ok := rc.(Sizer); ok && s.Size() >= 0 {
		if stored = s.Size(); stored != ref.Size {
			return nil, c.corrupt(ref, fmt.Errorf("blob is %d bytes, reference says %d", stored, ref.Size))
		}
	}
	hr := &hashReader{r: io.LimitReader(rc, ref.Size+1), h: sha256.New()}
	var chained, verified bool // checked in place through the store's SHA-256 chain
	if ref.Compression == compressionZstd {
		hint := int64(1 << 20)
		if stored >= 0 {
			hint = 8 * stored
		}
		raw, err = decompress(hr, ref.RawSize, hint)
		if err == nil {
			_, err = io.Copy(io.Discard, hr) // what follows the last frame is hashed too
		}
	} else if chain := storeChain(rc, stored); chain.Interval > 0 {
		chained = true
		raw, verified, err = readChained(hr, ref, chain)
	} else {
		raw, err = readHashed(hr, ref.Size, stored >= 0)
		hr.wait()
	}
	if hr.readErr != nil {
		return nil, c.storeErr("get", ref.SHA256, fmt.Errorf("read %s: %w", key, hr.readErr))
	}
	switch {
	case err != nil:
		return nil, c.corrupt(ref, fmt.Errorf("decompress: %v", err))
	case hr.n != ref.Size:
		return nil, c.corrupt(ref, fmt.Errorf("blob is %s bytes, reference says %d", atLeast(hr.n, ref.Size), ref.Size))
	case chained && !verified, !chained && hexSum(hr.h) != ref.SHA256:
		return nil, c.corrupt(ref, errors.New("sha256 of the stored bytes differs from the reference"))
	}
	c.ctr.add(&c.ctr.bytesFetched, hr.n)
	return raw, nil
}

func atLeast(n, want int64) string {
	if n > want {
		return fmt.Sprintf("more than %d", want)
	}
	return fmt.Sprint(n)
}

// pipelineMin is the smallest known-size blob whose hashing runs beside its reading.
const pipelineMin = 2 << 20

// readHashed reads up to size+1 bytes of r (already limited) into a buffer that is
// allocated once when the store vouched for the size, else grows with what arrives. With
// a known size of at least pipelineMin bytes and a second CPU, the bytes are hashed by a
// goroutine of their own while the next ones are read, so the copy out of the store is
// off the critical path (the buffer is final: nothing read is overwritten).
func readHashed(hr *hashReader, size int64, known bool) ([]byte, error) {
	initial := min(size, 1<<20)
	if known {
		initial = size
		if size >= pipelineMin && runtime.GOMAXPROCS(0) > 1 {
			hr.pipeline()
		}
	}
	buf := make([]byte, 0, initial)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) >= size {
				if err := readPastEnd(hr); err != nil {
					return nil, err
				}
				return buf, nil
			}
			grown := make([]byte, len(buf), min(size, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		n, err := hr.Read(buf[len(buf):min(cap(buf), len(buf)+readChunk)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// storeChain is the SHA-256 chain a store's reader offers for a blob of the size it
// vouched for (payloadsvc.Client passes on the service's), the zero Chain when none fits.
func storeChain(rc io.Reader, stored int64) sha256chain.Chain {
	ch, ok := rc.(SHA256Chainer)
	if !ok || stored < 0 {
		return sha256chain.Chain{}
	}
	iv, states := ch.SHA256Chain()
	if c := (sha256chain.Chain{Interval: iv, States: states}); c.Fits(stored) {
		return c
	}
	return sha256chain.Chain{}
}

// readChained reads a blob of known size whose reader offered its SHA-256 chain into one
// buffer, and verifies it in place on all cores as it arrives (the buffer is final, so
// nothing is copied), instead of in one pass beside the read. The chain is a claim from
// the store: if it does not check out, the buffer is hashed serially, so a wrong chain
// costs time but never turns good bytes into ErrCorrupt. verified is false when the
// bytes do not match the reference.
func readChained(hr *hashReader, ref Reference, chain sha256chain.Chain) (raw []byte, verified bool, err error) {
	var want [sha256.Size]byte
	if _, err := hex.Decode(want[:], []byte(ref.SHA256)); err != nil {
		return nil, false, err
	}
	hr.h = nil // counted here, hashed in place
	buf := make([]byte, ref.Size)
	v, err := sha256chain.NewInPlace(want, chain, buf[:0], runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, false, err
	}
	n := 0
	for n < len(buf) {
		k, err := hr.Read(buf[n:min(len(buf), n+readChunk)])
		n += k
		v.Advance(int64(n))
		if err == io.EOF {
			break
		}
		if err != nil {
			_ = v.Verify() // let the hashes of buf finish
			return nil, false, err
		}
	}
	if n == len(buf) {
		if err := readPastEnd(hr); err != nil {
			_ = v.Verify()
			return nil, false, err
		}
	}
	if v.Verify() == nil {
		return buf, true, nil
	}
	return buf[:n], sha256.Sum256(buf[:n]) == want, nil
}

// readPastEnd reads one byte past a full buffer: hr counts it, so a blob longer than
// claimed fails the size check.
func readPastEnd(hr *hashReader) error {
	var one [1]byte
	if _, err := io.ReadFull(hr, one[:]); err != nil && err != io.EOF {
		return err
	}
	return nil
}

// hashReader hashes and counts what it reads, and remembers a failure of the
// underlying reader (the store) as opposed to a problem with the bytes. In pipeline
// mode the bytes are hashed by a goroutine after Read returns: only for a caller whose
// buffers are never reused; wait ends the goroutine before the hash is read.
type hashReader struct {
	r       io.Reader
	h       hash.Hash
	n       int64
	readErr error

	queue chan []byte // pipeline mode: slices to hash, in order
	done  chan struct{}
}

func (h *hashReader) pipeline() {
	h.queue, h.done = make(chan []byte, 64), make(chan struct{})
	go func() {
		defer close(h.done)
		for b := range h.queue {
			h.h.Write(b)
		}
	}()
}

// wait returns when every byte read so far is hashed.
func (h *hashReader) wait() {
	if h.queue != nil {
		close(h.queue)
		<-h.done
		h.queue = nil
	}
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		switch {
		case h.queue != nil:
			h.queue <- p[:n:n]
		case h.h != nil: // nil: the caller verifies the bytes itself
			h.h.Write(p[:n])
		}
		h.n += int64(n)
	}
	if err != nil && err != io.EOF && h.readErr == nil {
		h.readErr = err
	}
	return n, err
}
