package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/seed-a62fcf0e/longhaul/internal/ctxio"
)

// sourceError is a failure of the caller's source: retrying the request cannot fix it.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return "source: " + e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

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

// readPart reads exactly len(buf) bytes of a sequential source into buf.
func readPart(ctx context.Context, src io.Reader, buf []byte, off, size int64) error {
	n, err := io.ReadFull(ctxio.Reader(ctx, src), buf)
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
