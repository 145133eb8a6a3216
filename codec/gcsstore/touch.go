package gcsstore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/storage"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// Touch reports the object's size and, when its customTime is older than TouchAfter,
// sets customTime to now: a lifecycle rule on daysSinceCustomTime then counts from this
// use, not from the first write. Only metadata changes; the bytes are not rewritten. A
// missing object is codec.ErrNotFound.
func (s *Store) Touch(ctx context.Context, key string) (driver.Info, error) {
	name, err := s.ObjectName(key)
	if err != nil {
		return driver.Info{}, fmt.Errorf("gcsstore touch: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return driver.Info{}, fmt.Errorf("gcsstore touch %s: %w", name, err)
	}
	attrs, err := s.attrs(ctx, name)
	if err == nil {
		err = s.refresh(ctx, attrs)
	}
	if err != nil {
		return driver.Info{}, fmt.Errorf("gcsstore touch %s: %w", name, err)
	}
	return driver.Info{Size: attrs.Size, ModTime: age(attrs)}, nil
}

// refresh moves an object's customTime to now when it is older than TouchAfter, and
// updates attrs to match.
func (s *Store) refresh(ctx context.Context, attrs *storage.ObjectAttrs) error {
	s.stats.touches.Add(1)
	was := age(attrs)
	now := time.Now()
	if now.Sub(was) < s.opts.TouchAfter || !now.After(attrs.CustomTime) {
		return nil // young, or customTime ahead of our clock (GCS never moves it back)
	}
	if err := s.setCustomTime(ctx, attrs, now); err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	s.stats.refreshes.Add(1)
	s.log.LogAttrs(ctx, slog.LevelDebug, "gcsstore: refreshed", slog.String("store", s.String()),
		slog.String("key", attrs.Name), slog.Time("was", was), slog.Time("now", attrs.CustomTime))
	return nil
}

// setCustomTime sets an object's customTime (a metadata update of that generation) and
// updates attrs. A concurrent update that won (412) has set a customTime as recent.
func (s *Store) setCustomTime(ctx context.Context, attrs *storage.ObjectAttrs, t time.Time) error {
	obj := s.bucket.Object(attrs.Name).If(storage.Conditions{GenerationMatch: attrs.Generation})
	err := s.retry.Do(ctx, "set customTime", attrs.Name, func(ctx context.Context) error {
		_, err := obj.Update(ctx, storage.ObjectAttrsToUpdate{CustomTime: t})
		return err
	})
	if err != nil && !preconditionFailed(err) {
		return err
	}
	attrs.CustomTime = t
	return nil
}
