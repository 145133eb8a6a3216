package gcsstore

import (
	"context"
	"time"

	"cloud.google.com/go/storage"
)

// refresh moves the customTime of an object older than TouchAfter to now, and updates
// attrs to match.
func (s *Store) refresh(ctx context.Context, name string, attrs *storage.ObjectAttrs) (*storage.ObjectAttrs, error) {
	was := age(attrs)
	now := time.Now()
	if !now.After(attrs.CustomTime) {
		return attrs, nil // customTime ahead of our clock (GCS never moves it back)
	}
	if err := s.setCustomTime(ctx, attrs, now); err != nil {
		return attrs, err
	}
	s.core.Refreshed(ctx, name, was, attrs.CustomTime)
	return attrs, nil
}

// setCustomTime sets an object's customTime (a metadata update of that generation) and
// updates attrs. A concurrent update that won (412) has set a customTime as recent.
func (s *Store) setCustomTime(ctx context.Context, attrs *storage.ObjectAttrs, t time.Time) error {
	obj := s.bucket.Object(attrs.Name).If(storage.Conditions{GenerationMatch: attrs.Generation})
	err := s.core.Retrier.Do(ctx, "set customTime", attrs.Name, func(ctx context.Context) error {
		_, err := obj.Update(ctx, storage.ObjectAttrsToUpdate{CustomTime: t})
		return err
	})
	if err != nil && !preconditionFailed(err) {
		return err
	}
	attrs.CustomTime = t
	return nil
}
