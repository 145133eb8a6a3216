package s3store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
)

// sourceError is a failure of the caller's source: retrying the request cannot fix it.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return "source: " + e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// digest is the SHA-256 of one request body: S3 checks it (x-amz-checksum-sha256)
// and rejects a body that was corrupted on the way, and the signer reuses it as the
// payload hash, so each byte is hashed once.
type digest [sha256.Size]byte

func (d digest) base64() string { return base64.StdEncoding.EncodeToString(d[:]) }

// hashSection returns the SHA-256 of n bytes of ra at off; fewer bytes is a source error.
func hashSection(ctx context.Context, ra io.ReaderAt, off, n int64) (digest, error) {
	h := sha256.New()
	got, err := io.Copy(h, &ctxReader{ctx: ctx, r: io.NewSectionReader(ra, off, n)})
	if err != nil {
		if ctx.Err() != nil {
			return digest{}, ctx.Err()
		}
		return digest{}, &sourceError{err}
	}
	if got != n {
		return digest{}, &sourceError{fmt.Errorf("ended after %d of %d bytes", off+got, off+n)}
	}
	var d digest
	h.Sum(d[:0])
	return d, nil
}

// withPayloadHash makes the SigV4 signer use d instead of reading the body again.
// A client configured for unsigned payloads is left so.
func withPayloadHash(d digest) func(*s3.Options) {
	hexSum := hex.EncodeToString(d[:])
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			const id = "ComputePayloadHash" // v4.ComputePayloadSHA256 (or UnsignedPayload)
			if m, ok := st.Finalize.Get(id); !ok {
				return nil
			} else if _, unsigned := m.(*v4.UnsignedPayload); unsigned {
				return nil // the client chose unsigned payloads; the checksum still guards the body
			}
			return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("longhaulPayloadHash",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					return next.HandleFinalize(v4.SetPayloadHash(ctx, hexSum), in)
				}), id, middleware.Before)
		})
	}
}

// body is a request body over a section of the source. It remembers a read error, so
// a failing source is told apart from a failing network, and once done it reads no
// more: net/http may still read a body after RoundTrip returns, and the part buffer
// under it is about to be reused.
type body struct {
	mu   sync.Mutex
	r    *io.SectionReader
	err  error
	done bool
}

func newBody(ra io.ReaderAt, off, n int64) *body { return &body{r: io.NewSectionReader(ra, off, n)} }

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, errBodyDone
	}
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

func (b *body) Seek(off int64, whence int) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.r.Seek(off, whence)
}

// finish stops further reads and returns the source's error, if it had one, in
// place of the request's.
func (b *body) finish(err error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = true
	if err != nil && b.err != nil {
		return &sourceError{b.err}
	}
	return err
}

var errBodyDone = errors.New("s3store: request body read after its request ended")

// ctxReader stops a long read when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// readPart reads exactly len(buf) bytes of a sequential source into buf.
func readPart(ctx context.Context, src io.Reader, buf []byte, off, size int64) error {
	n, err := io.ReadFull(&ctxReader{ctx: ctx, r: src}, buf)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return &sourceError{fmt.Errorf("ended after %d of %d bytes", off+int64(n), size)}
	default:
		return &sourceError{err}
	}
}
