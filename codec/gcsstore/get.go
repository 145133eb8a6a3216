package gcsstore

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"cloud.google.com/go/storage"

	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

// Get opens the object for reading. The reader's Size reports the object's length. The
// body is streamed; in an object over PartSize the parts after the first are fetched
// as parallel ranges (Concurrency in flight, each retried on its own) while the first
// streams. A body that breaks off is
// resumed from where it stopped; one that cannot be completed is an error
// (io.ErrUnexpectedEOF), never a short read. The reader stops with ctx; Close releases
// it.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	name, err := s.ObjectName(key)
	if err != nil {
		return nil, fmt.Errorf("gcsstore get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gcsstore get %s: %w", name, err)
	}
	first := int64(-1)
	if s.opts.Concurrency > 1 {
		first = s.opts.PartSize
	}
	var r *storage.Reader
	err = s.retry.DoStream(ctx, "get", name, func(ctx context.Context) error {
		var err error
		r, err = s.bucket.Object(name).NewRangeReader(ctx, 0, first)
		if isStatus(err, http.StatusRequestedRangeNotSatisfiable) {
			r, err = s.bucket.Object(name).NewReader(ctx) // an empty object has no byte 0
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("gcsstore get %s: %w", name, err)
	}
	s.stats.gets.Add(1)
	// Ranges are not pinned to the first response's generation: the bytes under a key
	// are its content address, and fake-gcs-server gives an object a new generation on
	// a metadata update (the customTime refresh), which would fail a pinned read.
	size, obj := r.Attrs.Size, s.bucket.Object(name)
	return blobxfer.NewReader(ctx, blobxfer.ReaderConfig{
		Name:        "gcsstore get " + name,
		Key:         name,
		Size:        size,
		ChunkSize:   s.opts.PartSize,
		Concurrency: s.opts.Concurrency,
		Retrier:     s.retry,
		Open: func(ctx context.Context, off, end int64) (io.ReadCloser, error) {
			return obj.NewRangeReader(ctx, off, end-off)
		},
		OnBytes: func(n int64) { s.stats.bytesDown.Add(n) },
	}, r, r.Attrs.StartOffset+r.Remain()), nil
}
