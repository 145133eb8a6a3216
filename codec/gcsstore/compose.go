package gcsstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"cloud.google.com/go/storage"
	"golang.org/x/sync/errgroup"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

// cleanupTimeout bounds the deletion of an upload's part objects, which runs on a
// fresh context so a cancelled Put still cleans up.
const cleanupTimeout = time.Minute

// part is an uploaded or composed object that a compose joins.
type part struct {
	name   string
	crc32c uint32
	size   int64
}

// putComposed uploads the object as parts in parallel (each its own object under
// .uploads/, checked against its CRC32C), composes them into the object under
// cond, and deletes the parts. Only the final compose creates the object, and GCS
// checks the CRC32C of the whole, combined from the parts'.
func (s *Store) putComposed(ctx context.Context, name string, src io.Reader, size int64, cond storage.Conditions) error {
	partSize := blobxfer.PartSize(size, s.opts.PartSize, maxParts)
	parts := make([]part, (size+partSize-1)/partSize)
	dir := s.core.Prefix + uploadsDir + randomID() + "/"
	var tmp tempObjects
	defer s.cleanup(ctx, name, &tmp)
	err := blobxfer.Parts(ctx, src, size, partSize, s.opts.Concurrency, func(ctx context.Context, i int, ra io.ReaderAt, n int64) error {
		p := part{name: fmt.Sprintf("%spart-%05d", dir, i), size: n}
		tmp.add(p.name)
		crc, err := s.upload(ctx, s.bucket.Object(p.name), ra, n, time.Time{})
		if err != nil {
			return fmt.Errorf("part %d: %w", i, err)
		}
		p.crc32c = crc
		parts[i] = p
		s.stats.parts.Add(1)
		return nil
	})
	if err != nil {
		return err
	}
	// More than 32 parts: compose groups of 32 into intermediate objects first.
	for level := 0; len(parts) > maxComposeSources; level++ {
		joined := make([]part, (len(parts)+maxComposeSources-1)/maxComposeSources)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(s.opts.Concurrency)
		for j := range joined {
			group := parts[j*maxComposeSources : min((j+1)*maxComposeSources, len(parts))]
			dst := fmt.Sprintf("%sjoin-%d-%05d", dir, level, j)
			tmp.add(dst)
			g.Go(func() error {
				var err error
				joined[j], err = s.compose(gctx, dst, group, storage.Conditions{}, time.Time{})
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		parts = joined
	}
	_, err = s.compose(ctx, name, parts, cond, time.Now())
	return err
}

// compose joins srcs into the object dst under cond, sending the CRC32C of the whole so
// GCS refuses a result that does not match the parts. customTime, when not zero, is set
// on the result.
func (s *Store) compose(ctx context.Context, dst string, srcs []part, cond storage.Conditions, customTime time.Time) (part, error) {
	handles := make([]*storage.ObjectHandle, len(srcs))
	out := part{name: dst}
	for i, p := range srcs {
		handles[i] = s.bucket.Object(p.name)
		out.crc32c = crc32cCombine(out.crc32c, p.crc32c, p.size)
		out.size += p.size
	}
	var attrs *storage.ObjectAttrs
	err := s.core.Retrier.Do(ctx, "compose", dst, func(ctx context.Context) error {
		obj := s.bucket.Object(dst)
		if cond != (storage.Conditions{}) {
			obj = obj.If(cond)
		}
		c := obj.ComposerFrom(handles...)
		c.ContentType = contentType
		c.StorageClass = s.opts.StorageClass
		c.CustomTime = customTime
		c.CRC32C, c.SendCRC32C = out.crc32c, true
		var err error
		attrs, err = c.Run(ctx)
		return err
	})
	if err != nil {
		return part{}, fmt.Errorf("compose: %w", err)
	}
	s.stats.composes.Add(1)
	if attrs.CRC32C != out.crc32c || attrs.Size != out.size {
		// Only a server that ignores the sent checksum gets here. The object is not
		// what we composed: remove that generation and fail.
		_ = s.bucket.Object(dst).If(storage.Conditions{GenerationMatch: attrs.Generation}).Delete(ctx)
		return part{}, driver.Permanent(fmt.Errorf("composed %s: %d bytes with CRC32C %08x, want %d bytes with %08x",
			dst, attrs.Size, attrs.CRC32C, out.size, out.crc32c))
	}
	if !customTime.IsZero() && attrs.CustomTime.IsZero() {
		// Some servers (fake-gcs-server) ignore customTime in a compose request.
		if err := s.setCustomTime(ctx, attrs, customTime); err != nil {
			return part{}, err
		}
	}
	return out, nil
}

// tempObjects are the part and intermediate objects of one upload.
type tempObjects struct {
	mu    sync.Mutex
	names []string
}

func (t *tempObjects) add(name string) {
	t.mu.Lock()
	t.names = append(t.names, name)
	t.mu.Unlock()
}

// cleanup deletes an upload's temporary objects, after success or failure, on a fresh
// context. What it cannot delete stays until the bucket's lifecycle rule on .uploads/
// removes it.
func (s *Store) cleanup(ctx context.Context, name string, tmp *tempObjects) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	g, gctx := errgroup.WithContext(cctx)
	g.SetLimit(s.opts.Concurrency)
	for _, n := range tmp.names {
		g.Go(func() error {
			err := s.core.Retrier.Do(gctx, "delete part", n, func(ctx context.Context) error {
				return s.bucket.Object(n).Delete(ctx)
			})
			if err == nil {
				s.stats.cleanups.Add(1)
			}
			if err != nil && !errors.Is(err, driver.ErrNotFound) {
				return fmt.Errorf("%s: %w", n, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		s.core.Log.LogAttrs(ctx, slog.LevelError, "gcsstore: part cleanup failed; parts remain until the lifecycle rule removes them",
			slog.String("store", s.String()), slog.String("key", name), slog.Any("err", err))
	}
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
