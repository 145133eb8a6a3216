package blobxfer

import (
	"bytes"
	"context"
	"io"

	"golang.org/x/sync/errgroup"
)

// PartSize returns the part size for an object of size bytes: want, or the smallest
// whole MiB that keeps the object within maxParts parts.
func PartSize(size, want, maxParts int64) int64 {
	if need := (size + maxParts - 1) / maxParts; need > want {
		return (need + 1<<20 - 1) &^ (1<<20 - 1)
	}
	return want
}

// Parts hands size bytes of src to send in parts of partSize bytes, at most concurrency
// sends at a time; each part is an io.ReaderAt over [0, n) with its index. When src is an
// io.ReaderAt the parts are sections of it, read in place; otherwise src is read
// sequentially, each part into one of concurrency+1 reused buffers, so memory stays at
// (concurrency+1)*partSize. The first error (a *SourceError when src fails or ends
// short) cancels the sends in flight and is returned once they have ended.
func Parts(ctx context.Context, src io.Reader, size, partSize int64, concurrency int,
	send func(ctx context.Context, i int, part io.ReaderAt, n int64) error) error {
	return PartsTail(ctx, src, size, partSize, 0, concurrency, send)
}

// PartCount returns how many parts an object of size bytes is cut into: parts of
// partSize, the last one also taking a remainder of up to tail bytes.
func PartCount(size, partSize, tail int64) int64 {
	n := size / partSize
	if rem := size % partSize; rem > tail || (n == 0 && rem > 0) {
		n++
	}
	return n
}

// PartsTail is Parts whose last part also takes a remainder of up to tail bytes (see
// PartCount), rather than a part of its own.
func PartsTail(ctx context.Context, src io.Reader, size, partSize, tail int64, concurrency int,
	send func(ctx context.Context, i int, part io.ReaderAt, n int64) error) error {
	ra, inPlace := src.(io.ReaderAt)
	count := int(PartCount(size, partSize, tail))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(concurrency, 1))
	free := make(chan []byte, concurrency+1)
	for i := 0; i < count && gctx.Err() == nil; i++ {
		off := int64(i) * partSize
		n := partSize
		if i == count-1 {
			n = size - off
		}
		var part io.ReaderAt
		var buf []byte
		if inPlace {
			part = io.NewSectionReader(ra, off, n)
		} else {
			select {
			case buf = <-free:
			default:
			}
			if int64(cap(buf)) < n { // the first parts, and a last one with a tail
				buf = make([]byte, n)
			}
			buf = buf[:n]
			if err := ReadFull(gctx, src, buf, off, size); err != nil {
				g.Go(func() error { return err }) // fail the group; Wait reports the first error
				break
			}
			part = bytes.NewReader(buf)
		}
		g.Go(func() error {
			err := send(gctx, i, part, n)
			if buf != nil {
				free <- buf[:cap(buf)]
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}
