package gcsstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/sweep"
)

var _ sweep.Sweeper = (*Store)(nil)

// SweepUploads deletes the part and intermediate objects under the store's .uploads/
// directory that were created more than olderThan ago: what a worker killed between
// uploading parts and composing them leaves (the store deletes its own parts after a
// compose or a failure when it can). Blobs live outside .uploads/ and are never
// listed. Each delete is conditional on the listed generation. With dryRun it only
// reports. It needs storage.objects.list and storage.objects.delete.
func (s *Store) SweepUploads(ctx context.Context, olderThan time.Duration, dryRun bool) (sweep.Report, error) {
	return s.core.Sweep(olderThan, dryRun, func(rep *sweep.Report, fail func(error)) error {
		dir := s.core.Prefix + uploadsDir
		it := s.bucket.Objects(ctx, &storage.Query{Prefix: dir})
		for {
			attrs, err := it.Next()
			if errors.Is(err, iterator.Done) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("list %s: %w", dir, err)
			}
			if attrs.Created.After(rep.Before) {
				rep.Younger++
				continue
			}
			rep.Found = append(rep.Found, s.sweepPart(ctx, attrs, dryRun, fail))
		}
	})
}

// sweepPart deletes one part object, unless dryRun, on the condition that it is still
// the generation listed.
func (s *Store) sweepPart(ctx context.Context, attrs *storage.ObjectAttrs, dryRun bool, fail func(error)) sweep.Debris {
	d := sweep.Debris{Kind: sweep.KindComposePart, Name: attrs.Name, Started: attrs.Created, Bytes: attrs.Size, Parts: 1}
	if dryRun {
		return d
	}
	err := s.core.Retrier.Do(ctx, "delete part", attrs.Name, func(ctx context.Context) error {
		return s.bucket.Object(attrs.Name).If(storage.Conditions{GenerationMatch: attrs.Generation}).Delete(ctx)
	})
	switch {
	case err == nil, errors.Is(err, driver.ErrNotFound): // gone meanwhile: freed all the same
		d.Freed = true
		s.stats.cleanups.Add(1)
	default:
		fail(fmt.Errorf("delete %s: %w", attrs.Name, err))
	}
	return d
}
