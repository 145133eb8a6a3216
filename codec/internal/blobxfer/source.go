package blobxfer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/seed-a62fcf0e/longhaul/codec/internal/ctxio"
)

// SourceError is a failure of the caller's source (it failed or ended short): retrying
// the request cannot fix it, and nothing may be committed.
type SourceError struct{ Err error }

func (e *SourceError) Error() string { return "source: " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// Section returns n bytes of src as an io.ReaderAt over [0, n): src itself when it is
// an io.ReaderAt (read in place), else a buffer filled from src's current position.
func Section(ctx context.Context, src io.Reader, n int64) (io.ReaderAt, error) {
	if ra, ok := src.(io.ReaderAt); ok {
		return ra, nil
	}
	buf := make([]byte, n)
	if err := ReadFull(ctx, src, buf, 0, n); err != nil {
		return nil, err
	}
	return bytes.NewReader(buf), nil
}

// ReadFull reads exactly len(buf) bytes of a sequential source into buf; off and size
// (where buf starts in the source, and the source's length) name the failure.
func ReadFull(ctx context.Context, src io.Reader, buf []byte, off, size int64) error {
	n, err := io.ReadFull(ctxio.Reader(ctx, src), buf)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return &SourceError{fmt.Errorf("ended after %d of %d bytes", off+int64(n), size)}
	default:
		return &SourceError{err}
	}
}

// Hash feeds n bytes of ra at off to each of hs; fewer bytes is a *SourceError.
func Hash(ctx context.Context, ra io.ReaderAt, off, n int64, hs ...hash.Hash) error {
	w := make([]io.Writer, len(hs))
	for i, h := range hs {
		w[i] = h
	}
	got, err := io.Copy(io.MultiWriter(w...), ctxio.Reader(ctx, io.NewSectionReader(ra, off, n)))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &SourceError{err}
	}
	if got != n {
		return &SourceError{fmt.Errorf("ended at byte %d, before byte %d", off+got, off+n)}
	}
	return nil
}

// Body is a request body over a section of a source. It remembers a read error, so a
// failing source is told apart from a failing network, and once finished it reads no
// more: an HTTP transport may still read a body after the request returns, and the part
// buffer under it is about to be reused.
type Body struct {
	mu   sync.Mutex
	r    *io.SectionReader
	err  error
	done bool
}

// NewBody returns a body of n bytes of ra at off.
func NewBody(ra io.ReaderAt, off, n int64) *Body { return &Body{r: io.NewSectionReader(ra, off, n)} }

func (b *Body) Read(p []byte) (int, error) {
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

// Seek rewinds the body for a resend.
func (b *Body) Seek(off int64, whence int) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.r.Seek(off, whence)
}

// Close does nothing: the source belongs to the caller; Finish ends the body.
func (b *Body) Close() error { return nil }

// Finish stops further reads and returns the source's error, if it had one, in place
// of the request's.
func (b *Body) Finish(err error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = true
	if err != nil && b.err != nil {
		return &SourceError{b.err}
	}
	return err
}

var errBodyDone = errors.New("blobxfer: request body read after its request ended")
