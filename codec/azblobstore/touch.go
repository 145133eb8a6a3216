package azblobstore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// Touch reports the blob's size and, when its Last-Modified is older than TouchAfter,
// rewrites its metadata (Set Blob Metadata), which moves Last-Modified to now: a
// lifecycle rule on daysAfterModificationGreaterThan then counts from this use, not
// from the first write. The bytes are not rewritten. A missing blob is
// codec.ErrNotFound.
func (s *Store) Touch(ctx context.Context, key string) (driver.Info, error) {
	name, err := s.BlobName(key)
	if err != nil {
		return driver.Info{}, fmt.Errorf("azblobstore touch: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return driver.Info{}, fmt.Errorf("azblobstore touch %s: %w", name, err)
	}
	info, err := s.props(ctx, name)
	if err == nil {
		err = s.refresh(ctx, name, info)
	}
	if err != nil {
		return driver.Info{}, fmt.Errorf("azblobstore touch %s: %w", name, err)
	}
	return driver.Info{Size: info.size, ModTime: info.modTime}, nil
}

// refresh rewrites the metadata of a blob older than TouchAfter.
func (s *Store) refresh(ctx context.Context, name string, info blobInfo) error {
	s.stats.touches.Add(1)
	if time.Since(info.modTime) < s.opts.TouchAfter {
		return nil
	}
	now := time.Now().UTC()
	meta := map[string]*string{refreshedKey: ptr(now.Format(time.RFC3339))}
	// If-Match: a blob replaced meanwhile is new anyway.
	cond := &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: (*azcore.ETag)(info.etag)}}
	var mod time.Time
	err := s.retry.Do(ctx, "set metadata", name, func(ctx context.Context) error {
		resp, err := s.container.NewBlobClient(name).SetMetadata(noRetry(ctx), meta, &blob.SetMetadataOptions{AccessConditions: cond})
		mod = deref(resp.LastModified)
		return err
	})
	if alreadyExists(err) {
		return nil // ConditionNotMet: changed by someone else since, so recently modified
	}
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	s.stats.refreshes.Add(1)
	s.log.LogAttrs(ctx, slog.LevelDebug, "azblobstore: refreshed", slog.String("store", s.String()),
		slog.String("key", name), slog.Time("was", info.modTime), slog.Time("now", mod))
	return nil
}
