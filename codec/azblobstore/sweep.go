package azblobstore

import (
	"context"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/seed-a62fcf0e/longhaul/codec/sweep"
)

var _ sweep.Sweeper = (*Store)(nil)

// SweepUploads frees the uncommitted blocks under the store's blob prefixes ("{prefix}v1/"
// and "{prefix}v2/", one per key version) whose blob was last written more than olderThan
// ago: what a worker killed between staging blocks and committing them leaves. Azure
// itself discards uncommitted blocks a week after the last one was staged; this frees
// them sooner. The data-plane API has no call that drops uncommitted blocks alone, so
// the sweep commits an empty block list to the name with If-None-Match: * (only where no
// committed blob exists, which discards the staged blocks) and deletes that empty blob
// with If-Match on its ETag at once. A committed blob is never written or deleted. Blob
// names with uncommitted blocks are found by listing with include=uncommittedblobs and
// reading the block list of entries of length 0 (committed blobs of the store are never
// empty). With dryRun it only reports. It needs list, read, write and delete on the
// container.
func (s *Store) SweepUploads(ctx context.Context, olderThan time.Duration, dryRun bool) (sweep.Report, error) {
	return s.core.Sweep(olderThan, dryRun, func(rep *sweep.Report, fail func(error)) error {
		for _, prefix := range s.core.BlobPrefixes() {
			if err := s.sweepPrefix(ctx, prefix, rep, dryRun, fail); err != nil {
				return err
			}
		}
		return nil
	})
}

// sweepPrefix lists the blobs under one blob prefix, uncommitted ones included, and
// sweeps the candidates.
func (s *Store) sweepPrefix(ctx context.Context, prefix string, rep *sweep.Report, dryRun bool, fail func(error)) error {
	pager := s.container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix: &prefix, Include: container.ListBlobsInclude{UncommittedBlobs: true},
	})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, item := range page.Segment.BlobItems {
			if item.Name == nil || item.Properties == nil || deref(item.Properties.ContentLength) != 0 {
				continue
			}
			d, found, err := s.sweepBlob(ctx, *item.Name, deref(item.Properties.LastModified), rep, dryRun)
			if found {
				rep.Found = append(rep.Found, d)
			}
			fail(err)
		}
	}
	return nil
}

// sweepBlob reads one candidate's block list and frees its uncommitted blocks when the
// name has no committed blob and was last written before the cut-off.
func (s *Store) sweepBlob(ctx context.Context, name string, modified time.Time, rep *sweep.Report, dryRun bool) (sweep.Debris, bool,
	error) {
	bb := s.container.NewBlockBlobClient(name)
	var list blockblob.GetBlockListResponse
	err := s.core.Retrier.Do(ctx, "get block list", name, func(ctx context.Context) error {
		var err error
		list, err = bb.GetBlockList(noRetry(ctx), blockblob.BlockListTypeAll, nil)
		return err
	})
	if err != nil {
		return sweep.Debris{}, false, fmt.Errorf("block list of %s: %w", name, err)
	}
	if len(list.CommittedBlocks) > 0 || len(list.UncommittedBlocks) == 0 {
		return sweep.Debris{}, false, nil // a committed blob, or nothing staged
	}
	if modified.After(rep.Before) {
		rep.Younger++
		return sweep.Debris{}, false, nil
	}
	d := sweep.Debris{Kind: sweep.KindUncommittedBlocks, Name: name, Started: modified, Parts: len(list.UncommittedBlocks)}
	for _, b := range list.UncommittedBlocks {
		d.Bytes += deref(b.Size)
	}
	if dryRun {
		return d, true, nil
	}
	if err := s.dropUncommitted(ctx, bb, name); err != nil {
		return d, true, fmt.Errorf("free %s: %w", name, err)
	}
	d.Freed = true
	return d, true, nil
}

// dropUncommitted commits an empty block list where no blob exists (discarding the
// staged blocks) and deletes that empty blob by its ETag.
func (s *Store) dropUncommitted(ctx context.Context, bb *blockblob.Client, name string) error {
	var etag *azcore.ETag
	err := s.core.Retrier.Do(ctx, "commit empty block list", name, func(ctx context.Context) error {
		resp, err := bb.CommitBlockList(noRetry(ctx), []string{}, &blockblob.CommitBlockListOptions{
			AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: ptr(azcore.ETagAny)}},
		})
		etag = resp.ETag
		return err
	})
	if alreadyExists(err) {
		return nil // a writer committed the blob meanwhile: its blocks are its own now
	}
	if err != nil {
		return err
	}
	return s.core.Retrier.Do(ctx, "delete empty blob", name, func(ctx context.Context) error {
		_, err := bb.Delete(noRetry(ctx), &blob.DeleteOptions{
			AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: etag}},
		})
		return err
	})
}
