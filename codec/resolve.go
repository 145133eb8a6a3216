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

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/internal/contenthash"
	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
)

// readChunk is how much is read and hashed at a time: small enough that the bytes are
// still in cache when the hash reads them.
const readChunk = 256 << 10

// Resolve returns the payload a reference of any kind stands for (see Locate): from the
// cache, else read through the one path every kind shares, verified against its digest
// while it is read, decompressed and unmarshalled with its Data aliasing the read buffer
// (no further copy). A payload that is not a reference is returned as is. A reference
// whose sizes are over the maxima is ErrInvalidReference before anything is read.
func (c *Codec) Resolve(ctx context.Context, p *commonpb.Payload) (*commonpb.Payload, error) {
	loc, ok, err := c.Locate(p)
	if !ok {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("codec decode: %w", err)
	}
	return c.resolve(ctx, loc)
}

// resolve is the one path after parsing, for every kind of reference.
func (c *Codec) resolve(ctx context.Context, loc Locator) (*commonpb.Payload, error) {
	key := loc.cacheKey()
	if cached, ok := c.cache.get(key); ok {
		c.ctr.add(&c.ctr.cacheHits, 1)
		c.ctr.add(&c.ctr.payloadsDecoded, 1)
		return withForm(cached, loc), nil
	}
	if c.cache != nil {
		c.ctr.add(&c.ctr.cacheMisses, 1)
	}
	raw, err := c.load(ctx, loc)
	if err != nil {
		return nil, err
	}
	out, err := unmarshalStored(raw, loc.Form)
	if err != nil {
		return nil, c.corrupt(loc, err)
	}
	c.ctr.add(&c.ctr.payloadsDecoded, 1)
	c.cache.put(key, out)
	return withForm(out, loc), nil
}

// withForm gives a FormData result the metadata its reference carries: the cache holds
// the verified bytes alone, which two references may share.
func withForm(p *commonpb.Payload, loc Locator) *commonpb.Payload {
	if loc.Form != FormData {
		return p
	}
	return &commonpb.Payload{Metadata: loc.Metadata, Data: p.GetData()}
}

func (c *Codec) corrupt(loc Locator, why error) error {
	return c.fail(loc, fmt.Errorf("%w: %s: %w", driver.ErrCorrupt, loc.String(), why))
}

// fail counts and logs a failed read and names the namespace, digest and source.
func (c *Codec) fail(loc Locator, err error) error {
	name := c.name
	if loc.Reader != nil {
		name = loc.Kind.String()
	}
	c.ctr.add(&c.ctr.storeErrors, 1)
	c.opts.Logger.Error("longhaul: store operation failed", "op", "get", "store", name, "namespace", loc.Namespace, loc.Algorithm,
		loc.Digest, "error", err)
	return &StoreError{Op: "get", Namespace: loc.Namespace, Algorithm: loc.Algorithm, Digest: loc.Digest, Store: name, Err: err}
}

// open starts reading the stored bytes of loc: the codec's Store, or the Reader's source.
func (c *Codec) open(ctx context.Context, loc Locator) (io.ReadCloser, error) {
	if loc.Reader != nil {
		return loc.Reader.Open(ctx, loc)
	}
	key, err := driver.Key(loc.Namespace, loc.Algorithm, loc.Digest)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidReference, err)
	}
	return c.store.Get(ctx, key)
}

// load reads the stored bytes of loc and returns them verified (and decompressed),
// hashing them as they arrive. Memory is bounded by what the source really holds and
// loc.Max (min of the claim and the maxima), never by a size a reference claims alone;
// a body longer or shorter than the claim is ErrCorrupt.
func (c *Codec) load(ctx context.Context, loc Locator) (raw []byte, err error) {
	ctx, op := c.traceStart(ctx, OpFetch, loc.Algorithm, loc.Digest)
	defer func() { op.end(err) }()
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	getStart := op.clock()
	rc, err := c.open(ctx, loc)
	op.stored(loc.Algorithm, loc.Digest, loc.RawSize, loc.Size, loc.Compression, getStart)
	if err != nil {
		if errors.Is(err, ErrInvalidReference) {
			return nil, fmt.Errorf("codec decode: %w", err)
		}
		return nil, c.fail(loc, err)
	}
	defer rc.Close()
	stored, err := c.storedSize(loc, rc)
	if err != nil {
		return nil, err
	}
	hr := &hashReader{r: io.LimitReader(rc, loc.Max+1), h: newHash(loc.Algorithm)}
	raw, verified, err := c.read(hr, loc, rc, stored)
	if err := c.verdict(loc, hr, verified, err); err != nil {
		return nil, err
	}
	c.ctr.add(&c.ctr.bytesFetched, hr.n)
	return raw, nil
}

// storedSize is the length the source vouches for (-1: unknown); one that differs from
// the claim or passes the bound is ErrCorrupt before anything is read.
func (c *Codec) storedSize(loc Locator, rc io.Reader) (int64, error) {
	s, ok := rc.(driver.Sizer)
	if !ok || s.Size() < 0 {
		return -1, nil
	}
	if stored := s.Size(); (loc.Size >= 0 && stored != loc.Size) || stored > loc.Max {
		return -1, c.corrupt(loc, fmt.Errorf("blob is %d bytes, reference says %s", stored, claimed(loc)))
	}
	return s.Size(), nil
}

// verdict judges a finished read: a source failure, a body longer or shorter than the
// claim, or bytes that do not hash to the digest (unless verified already).
func (c *Codec) verdict(loc Locator, hr *hashReader, verified bool, err error) error {
	if hr.readErr != nil {
		if errors.Is(hr.readErr, driver.ErrCorrupt) {
			return c.corrupt(loc, fmt.Errorf("read: %w", hr.readErr))
		}
		if loc.Reader != nil && errors.Is(hr.readErr, io.ErrUnexpectedEOF) {
			return c.corrupt(loc, fmt.Errorf("body ended early after %d bytes: %w", hr.n, hr.readErr))
		}
		return c.fail(loc, fmt.Errorf("read %s: %w", loc.String(), hr.readErr))
	}
	switch {
	case errors.Is(err, errDigestMismatch):
		return c.corrupt(loc, fmt.Errorf("%s of the stored bytes differs from the reference", loc.Algorithm))
	case err != nil:
		return c.corrupt(loc, fmt.Errorf("decompress: %v", err))
	case hr.n > loc.Max || (loc.Size >= 0 && hr.n != loc.Size):
		return c.corrupt(loc, fmt.Errorf("blob is %s bytes, reference says %s", atLeast(hr.n, loc.Max), claimed(loc)))
	case !verified && contenthash.Hex(hr.h) != loc.Digest:
		return c.corrupt(loc, fmt.Errorf("%s of the stored bytes differs from the reference", loc.Algorithm))
	}
	return nil
}

// Check checks the bytes a Locator from Locate names without building the payload: that
// they exist with the length claimed and, with verify, that they hash to the digest,
// streamed through the hash in bounded memory (operators' checks of huge blobs). It is
// Resolve's path up to the bytes: ErrNotFound, ErrCorrupt, or the source's error.
func (c *Codec) Check(ctx context.Context, loc Locator, verify bool) error {
	if err := c.admitLocator(&loc); err != nil {
		return fmt.Errorf("codec check: %w", err)
	}
	rc, err := c.open(ctx, loc)
	if err != nil {
		return c.fail(loc, err)
	}
	defer rc.Close()
	if _, err := c.storedSize(loc, rc); err != nil || !verify {
		return err
	}
	hr := &hashReader{r: io.LimitReader(rc, loc.Max+1), h: newHash(loc.Algorithm)}
	_, err = io.CopyBuffer(io.Discard, hr, make([]byte, readChunk))
	if hr.readErr != nil {
		err = nil // judged by verdict
	}
	return c.verdict(loc, hr, false, err)
}

// read reads the stored bytes through hr the fastest way loc allows; verified reports
// that they were checked against loc's digest already (through a SHA-256 chain; a
// BLAKE3 check runs beside the read, see readHashed).
func (c *Codec) read(hr *hashReader, loc Locator, rc io.Reader, stored int64) (raw []byte, verified bool, err error) {
	if loc.Compression == Zstd {
		hint := int64(1 << 20)
		if stored >= 0 {
			hint = 8 * stored
		}
		raw, err = decompress(hr, loc.RawSize, hint)
		if err == nil {
			_, err = io.Copy(io.Discard, hr) // what follows the last frame is hashed too
		}
		return raw, false, err
	}
	if chain := storeChain(rc, stored); chain.Interval > 0 && loc.Reader == nil && loc.Algorithm == driver.SHA256 {
		raw, verified, err = readChained(hr, loc, chain)
		if err == nil && !verified {
			return nil, false, errDigestMismatch
		}
		return raw, verified, err
	}
	size := loc.Max
	if stored >= 0 {
		size = stored
	}
	raw, err = readHashed(hr, size, stored >= 0)
	hr.wait()
	return raw, false, err
}

// newHash returns the hash of an admitted Locator's algorithm.
func newHash(algorithm string) hash.Hash {
	h, err := contenthash.New(algorithm)
	if err != nil {
		panic("codec: hash of an unadmitted locator: " + err.Error()) // admitLocator checks it
	}
	return h
}

// errDigestMismatch: the bytes read do not hash to the reference's digest.
var errDigestMismatch = errors.New("digest mismatch")

func claimed(loc Locator) string {
	if loc.Size < 0 {
		return fmt.Sprintf("at most %d", loc.Max)
	}
	return fmt.Sprint(loc.Size)
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
// vouched for (blobclient.Client passes on the service's), the zero Chain when none fits.
func storeChain(rc io.Reader, stored int64) sha256chain.Chain {
	ch, ok := rc.(driver.SHA256Chainer)
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
func readChained(hr *hashReader, loc Locator, chain sha256chain.Chain) (raw []byte, verified bool, err error) {
	var want [sha256.Size]byte
	if _, err := hex.Decode(want[:], []byte(loc.Digest)); err != nil {
		return nil, false, err
	}
	hr.h = nil // counted here, hashed in place
	buf := make([]byte, loc.Size)
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

// Fetch returns the payload a Locator from Locate stands for, through the same path as
// Resolve; for a caller that located the reference already (to admit it by its Bound,
// say) and must not parse it twice. The Locator's limits are checked again.
func (c *Codec) Fetch(ctx context.Context, loc Locator) (*commonpb.Payload, error) {
	if err := c.admitLocator(&loc); err != nil {
		return nil, fmt.Errorf("codec decode: %w", err)
	}
	return c.resolve(ctx, loc)
}
