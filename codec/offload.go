package codec

import (
	"context"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
)

// StoreError describes a failed store operation; it wraps the driver's error, so
// errors.Is(err, ErrNotFound) and the like still work.
type StoreError struct {
	Op        string // "put", "get"
	Namespace string
	Algorithm string // the digest's hash, "blake3" or "sha256"
	Digest    string
	Store     string
	Err       error
}

// Error names the operation, namespace, digest and store.
func (e *StoreError) Error() string {
	return fmt.Sprintf("codec %s: namespace %s: %s %s: store %s: %v", e.Op, e.Namespace, e.Algorithm, e.Digest, e.Store, e.Err)
}

// Unwrap returns the driver's error.
func (e *StoreError) Unwrap() error { return e.Err }

func (c *Codec) storeErr(op, digest string, err error) error {
	c.ctr.add(&c.ctr.storeErrors, 1)
	alg := string(c.opts.Hash)
	c.opts.Logger.Error("longhaul: store operation failed", "op", op, "store", c.name, "namespace", c.opts.Namespace, alg, digest,
		"error", err)
	return &StoreError{Op: op, Namespace: c.opts.Namespace, Algorithm: alg, Digest: digest, Store: c.name, Err: err}
}

// Offload stores one payload, whatever its size, and returns its reference payload.
func (c *Codec) Offload(ctx context.Context, p *commonpb.Payload) (*commonpb.Payload, error) {
	return c.offload(ctx, p)
}

// offload serializes p in pieces around its Data (no copy of it), compresses when that
// pays, hashes what it stores and puts it; the store's Put checks existence itself, so a
// new blob costs one existence check end to end.
func (c *Codec) offload(ctx context.Context, p *commonpb.Payload) (_ *commonpb.Payload, err error) {
	ctx, op := c.traceStart(ctx, OpOffload, "", "")
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
	digest, chain := address(c.opts.Hash, pieces, size)
	ref := newReference(c.opts.Hash, digest)
	key, err := ref.Key(c.opts.Namespace)
	if err != nil {
		return nil, fmt.Errorf("codec encode: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	putStart := op.clock()
	created, err := c.store.Put(ctx, key, &chainedPieces{newPieceReader(pieces), chain}, size)
	op.stored(string(c.opts.Hash), digest, rawSize, size, comp, putStart)
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
	ref.Size, ref.RawSize, ref.Compression, ref.Encoding = size, rawSize, comp, string(p.GetMetadata()[metadataEncoding])
	c.cache.put(ref.locator(c.opts.Namespace).cacheKey(), p)
	return ref.Payload()
}

// chainedPieces is the source the codec puts: the stored bytes, and the SHA-256 chain
// recorded while hashing them (see SHA256Chainer); none for a BLAKE3 address.
type chainedPieces struct {
	*pieceReader
	chain sha256chain.Chain
}

// SHA256Chain returns the recorded chain; (0, nil) for a blob too small to have one.
func (c *chainedPieces) SHA256Chain() (int64, [][]byte) {
	return c.chain.Interval, c.chain.States
}
