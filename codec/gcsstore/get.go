package gcsstore

import (
	"context"
	"io"
	"net/http"

	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

// Get opens the object for reading. The reader's Size reports the object's length. The
// body is streamed; in an object over PartSize the parts after the first are fetched
// as parallel ranges (Concurrency in flight, each retried on its own) while the first
// streams. A body that breaks off is resumed from where it stopped; one that cannot be
// completed is an error (io.ErrUnexpectedEOF), never a short read. The reader stops
// with ctx; Close releases it.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.core.Get(ctx, key, func(ctx context.Context, name string) (blobxfer.First, error) {
		// One attempt: the first PartSize bytes, or all when ranges are not fetched in
		// parallel.
		n := int64(-1)
		if s.opts.Concurrency > 1 {
			n = s.opts.PartSize
		}
		obj := s.bucket.Object(name)
		r, err := obj.NewRangeReader(ctx, 0, n)
		if isStatus(err, http.StatusRequestedRangeNotSatisfiable) {
			r, err = obj.NewReader(ctx) // an empty object has no byte 0
		}
		if err != nil {
			return blobxfer.First{}, err
		}
		// Ranges are not pinned to the first response's generation: the bytes under a key
		// are its content address, and fake-gcs-server gives an object a new generation on
		// a metadata update (the customTime refresh), which would fail a pinned read.
		return blobxfer.First{Body: r, End: r.Attrs.StartOffset + r.Remain(), Size: r.Attrs.Size,
			Open: func(ctx context.Context, off, end int64) (io.ReadCloser, error) {
				return obj.NewRangeReader(ctx, off, end-off)
			}}, nil
	})
}
