package codec

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"
)

// marshalOpts makes equal payloads serialize to equal bytes (metadata is a map), so
// equal payloads get one content address.
var marshalOpts = proto.MarshalOptions{Deterministic: true}

// StoreError describes a failed store operation; it wraps the driver's error, so
// errors.Is(err, ErrNotFound) and the like still work.
type StoreError struct {
	Op        string // "put", "get", "touch"
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
	c.opts.Logger.Error("longhaul: store operation failed", "op", op, "store", c.name, "namespace", c.opts.Namespace, "sha256", digest, "error", err)
	return &StoreError{Op: op, Namespace: c.opts.Namespace, SHA256: digest, Store: c.name, Err: err}
}

// Offload stores one payload, whatever its size, and returns its reference payload.
func (c *Codec) Offload(ctx context.Context, p *commonpb.Payload) (*commonpb.Payload, error) {
	return c.offload(ctx, p)
}

func (c *Codec) offload(ctx context.Context, p *commonpb.Payload) (*commonpb.Payload, error) {
	raw, err := marshalOpts.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("codec encode: marshal payload: %w", err)
	}
	stored, comp := raw, compressionNone
	if c.opts.Compression == Zstd {
		if z := compress(raw); z != nil {
			stored, comp = z, compressionZstd
		}
	}
	sum := sha256.Sum256(stored)
	digest := hex.EncodeToString(sum[:])
	key, err := BlobKey(c.opts.Namespace, digest)
	if err != nil {
		return nil, fmt.Errorf("codec encode: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	_, err = c.store.Touch(ctx, key)
	switch {
	case err == nil:
		c.ctr.add(&c.ctr.dedupeHits, 1)
	case errors.Is(err, ErrNotFound):
		if err := c.store.Put(ctx, key, bytes.NewReader(stored), int64(len(stored))); err != nil {
			return nil, c.storeErr("put", digest, err)
		}
		c.ctr.add(&c.ctr.blobsStored, 1)
		c.ctr.add(&c.ctr.bytesStored, int64(len(stored)))
	default:
		return nil, c.storeErr("touch", digest, err)
	}
	c.ctr.add(&c.ctr.payloadsOffloaded, 1)
	c.ctr.add(&c.ctr.bytesOffloaded, int64(len(raw)))
	c.cache.put(c.cacheKey(digest), p)

	ref := Reference{
		V:           RefVersion,
		SHA256:      digest,
		Size:        int64(len(stored)),
		RawSize:     int64(len(raw)),
		Compression: comp,
		Encoding:    string(p.GetMetadata()[metadataEncoding]),
	}
	return ref.Payload()
}

// Resolve returns the payload a reference stands for: from the cache, else fetched,
// verified against its SHA-256, decompressed and unmarshalled. A payload that is not a
// reference of ours or of a configured Reader is returned as is.
func (c *Codec) Resolve(ctx context.Context, p *commonpb.Payload) (*commonpb.Payload, error) {
	if !IsReference(p) {
		return c.resolveForeign(ctx, p)
	}
	ref, err := ParseReference(p)
	if err != nil {
		return nil, fmt.Errorf("codec decode: %w", err)
	}
	if cached, ok := c.cache.get(c.cacheKey(ref.SHA256)); ok {
		c.ctr.add(&c.ctr.cacheHits, 1)
		c.ctr.add(&c.ctr.payloadsDecoded, 1)
		return cached, nil
	}
	if c.cache != nil {
		c.ctr.add(&c.ctr.cacheMisses, 1)
	}
	stored, err := c.Fetch(ctx, ref)
	if err != nil {
		return nil, err
	}
	raw := stored
	if ref.Compression == compressionZstd {
		if raw, err = decompress(stored, ref.RawSize); err != nil {
			return nil, c.corrupt(ref, fmt.Errorf("decompress: %v", err))
		}
	} else if int64(len(raw)) != ref.RawSize {
		return nil, c.corrupt(ref, fmt.Errorf("blob is %d bytes, rawSize says %d", len(raw), ref.RawSize))
	}
	out := &commonpb.Payload{}
	if err := proto.Unmarshal(raw, out); err != nil {
		return nil, c.corrupt(ref, fmt.Errorf("unmarshal payload: %v", err))
	}
	c.ctr.add(&c.ctr.payloadsDecoded, 1)
	c.cache.put(c.cacheKey(ref.SHA256), out)
	return out, nil
}

// cacheKey scopes cache entries to the namespace: codecs made by WithNamespace share one
// cache, and a digest seen in one namespace must not be readable from another.
func (c *Codec) cacheKey(digest string) string { return c.opts.Namespace + "/" + digest }

func (c *Codec) corrupt(ref Reference, why error) error {
	key, _ := BlobKey(c.opts.Namespace, ref.SHA256)
	return c.storeErr("get", ref.SHA256, fmt.Errorf("%w: key %s: %v", ErrCorrupt, key, why))
}

// Fetch reads the stored bytes of a reference and verifies their length and SHA-256
// before returning them. Mismatches are ErrCorrupt; a missing blob is ErrNotFound.
func (c *Codec) Fetch(ctx context.Context, ref Reference) ([]byte, error) {
	key, err := BlobKey(c.opts.Namespace, ref.SHA256)
	if err != nil {
		return nil, fmt.Errorf("codec decode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var data []byte
	// The retry covers the whole read: a body cut short by the network is fetched again.
	err = Retry(ctx, c.opts.Retry, func(ctx context.Context) error {
		var err error
		data, err = c.readBlob(ctx, key, ref)
		return err
	}, func(_ int, err error) { c.onRetry("get", err) })
	if err != nil {
		return nil, c.storeErr("get", ref.SHA256, err)
	}
	c.ctr.add(&c.ctr.bytesFetched, int64(len(data)))
	return data, nil
}

func (c *Codec) readBlob(ctx context.Context, key string, ref Reference) ([]byte, error) {
	rc, err := c.raw.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if ref.Size > maxDecodedSize {
		return nil, fmt.Errorf("%w: key %s: size %d over the %d limit", ErrCorrupt, key, ref.Size, int64(maxDecodedSize))
	}
	data := make([]byte, ref.Size)
	n, err := io.ReadFull(rc, data)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			// Short: a cut connection (retry) or a truncated blob (corrupt). Ask the store.
			if info, terr := c.raw.Touch(ctx, key); terr == nil && info.Size != ref.Size {
				return nil, fmt.Errorf("%w: key %s: blob is %d bytes, reference says %d", ErrCorrupt, key, info.Size, ref.Size)
			}
			return nil, fmt.Errorf("read %s: got %d of %d bytes: %w", key, n, ref.Size, err)
		}
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	var one [1]byte
	if m, _ := rc.Read(one[:]); m > 0 {
		return nil, fmt.Errorf("%w: key %s: blob is longer than the %d bytes the reference says", ErrCorrupt, key, ref.Size)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != ref.SHA256 {
		return nil, fmt.Errorf("%w: key %s: sha256 of stored bytes is %s", ErrCorrupt, key, got)
	}
	return data, nil
}
