package codec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
)

// StoreError describes a failed store operation; it wraps the driver's error, so
// errors.Is(err, ErrNotFound) and the like still work.
type StoreError struct {
	Op        string // "put", "get"
	Namespace string
	SHA256    string
	Store     string
	Err       error
}

// Error names the operation, namespace, digest and store.
func (e *StoreError) Error() string {
	return fmt.Sprintf("codec %s: namespace %s: sha256 %s: store %s: %v", e.Op, e.Namespace, e.SHA256, e.Store, e.Err)
}

// Unwrap returns the driver's error.
func (e *StoreError) Unwrap() error { return e.Err }

func (c *Codec) storeErr(op, digest string, err error) error {
	c.ctr.add(&c.ctr.storeErrors, 1)
	c.opts.Logger.Error("longhaul: store operation failed", "op", op, "store", c.name, "namespace", c.opts.Namespace, "sha256", digest,
		"error", err)
	return &StoreError{Op: op, Namespace: c.opts.Namespace, SHA256: digest, Store: c.name, Err: err}
}

// Offload stores one payload, whatever its size, and returns its reference payload.
func (c *Codec) Offload(ctx context.Context, p *commonpb.Payload) (*commonpb.Payload, error) {
	return c.offload(ctx, p)
}

// offload serializes p in pieces around its Data (no copy of it), compresses when that
// pays, hashes what it stores and puts it; the store's Put checks existence itself, so a
// new blob costs one existence check end to end.
func (c *Codec) offload(ctx context.Context, p *commonpb.Payload) (_ *commonpb.Payload, err error) {
	ctx, op := c.traceStart(ctx, OpOffload, "")
	defer func() { op.end(err) }()
	w, err := splitPayload(p)
	if err != nil {
		return nil, fmt.Errorf("codec encode: %w", err)
	}
	if err := checkShell(len(p.GetMetadata()), len(w.head)+len(w.tail)); err != nil {
		return nil, fmt.Errorf("codec encode: %w", err) // it would not decode
	}
	rawSize := w.size()
	if rawSize > c.opts.MaxSize {
		return nil, fmt.Errorf("codec encode: %w: payload of %d bytes serialized is over Options.MaxSize (%d)", ErrTooLarge, rawSize,
			c.opts.MaxSize)
	}
	pieces, size, comp := w.pieces(), rawSize, NoCompression
	if c.opts.Compression == Zstd {
		if frames, n := compress(w); frames != nil {
			pieces, size, comp = frames, n, Zstd
		}
	}
	sum, chain := sha256chain.Sum(pieces, sha256chain.IntervalFor(size))
	digest := hex.EncodeToString(sum[:])
	key, err := driver.Key(c.opts.Namespace, driver.SHA256, digest)
	if err != nil {
		return nil, fmt.Errorf("codec encode: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	putStart := op.clock()
	created, err := c.store.Put(ctx, key, &chainedPieces{newPieceReader(pieces), chain}, size)
	op.stored(digest, rawSize, size, comp, putStart)
	if err != nil {
		return nil, c.storeErr("put", digest, err)
	}
	if created {
		c.ctr.add(&c.ctr.blobsStored, 1)
		c.ctr.add(&c.ctr.bytesStored, size)
	} else {
		c.ctr.add(&c.ctr.dedupeHits, 1)
		op.dedupe()
	}
	c.ctr.add(&c.ctr.payloadsOffloaded, 1)
	c.ctr.add(&c.ctr.bytesOffloaded, rawSize)
	own := Locator{Namespace: c.opts.Namespace, Compression: comp, Algorithm: "sha256", Digest: digest}
	c.cache.put(own.cacheKey(), p)

	ref := Reference{
		V:           refVersion,
		SHA256:      digest,
		Size:        size,
		RawSize:     rawSize,
		Compression: comp,
		Encoding:    string(p.GetMetadata()[metadataEncoding]),
	}
	return ref.Payload()
}

// chainedPieces is the source the codec puts: the stored bytes, and the SHA-256 chain
// recorded while hashing them (see SHA256Chainer).
type chainedPieces struct {
	*pieceReader
	chain sha256chain.Chain
}

// SHA256Chain returns the recorded chain; (0, nil) for a blob too small to have one.
func (c *chainedPieces) SHA256Chain() (int64, [][]byte) {
	return c.chain.Interval, c.chain.States
}

func hexSum(h hash.Hash) string {
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}
