package azblobstore

import (
	"context"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
)

// refresh rewrites the metadata of a blob older than TouchAfter.
func (s *Store) refresh(ctx context.Context, name string, info blobInfo) (blobInfo, error) {
	now := time.Now().UTC()
	meta := map[string]*string{refreshedKey: ptr(now.Format(time.RFC3339))}
	// If-Match: a blob replaced meanwhile is new anyway.
	cond := &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: (*azcore.ETag)(info.etag)}}
	var mod time.Time
	err := s.core.Retrier.Do(ctx, "set metadata", name, func(ctx context.Context) error {
		resp, err := s.container.NewBlobClient(name).SetMetadata(noRetry(ctx), meta, &blob.SetMetadataOptions{AccessConditions: cond})
		mod = deref(resp.LastModified)
		return err
	})
	if alreadyExists(err) {
		return info, nil // ConditionNotMet: changed by someone else since, so recently modified
	}
	if err != nil {
		return info, err
	}
	s.core.Refreshed(ctx, name, info.modTime, mod)
	if !mod.IsZero() {
		info.modTime = mod
	}
	return info, nil
}
