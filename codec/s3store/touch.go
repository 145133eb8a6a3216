package s3store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// refresh rewrites an object older than TouchAfter and returns its new age.
func (s *Store) refresh(ctx context.Context, okey string, info objectInfo) (objectInfo, error) {
	mod, err := s.rewrite(ctx, okey, info)
	if err != nil {
		return info, err
	}
	s.core.Refreshed(ctx, okey, info.modTime, mod)
	info.modTime = mod
	return info, nil
}

// rewrite gives an object a new LastModified by copying it onto itself: one CopyObject
// up to 5 GiB, else a multipart copy. Some servers (versitygw's posix backend) treat a
// self-copy as a metadata update that keeps LastModified; seeing that, the store
// switches to the multipart copy, which writes a new object everywhere.
func (s *Store) rewrite(ctx context.Context, okey string, info objectInfo) (time.Time, error) {
	if info.size <= maxCopySize && !s.selfCopyKeepsAge.Load() {
		mod, err := s.copySelf(ctx, okey)
		if err != nil || mod.After(info.modTime) {
			return mod, err
		}
		s.selfCopyKeepsAge.Store(true)
		s.core.Log.LogAttrs(ctx, slog.LevelInfo, "s3store: server keeps LastModified on a self-copy; refreshing by multipart copy",
			slog.String("store", s.String()), slog.String("key", okey))
	}
	return s.copyMultipart(ctx, okey, info.size)
}

// copySource is the CopySource of an object in the store's bucket. Keys need no
// escaping: ValidateKey allows only [A-Za-z0-9._-/].
func (s *Store) copySource(okey string) *string { return aws.String(s.core.Bucket + "/" + okey) }

// copySelf copies an object onto itself. S3 refuses a self-copy that changes nothing,
// so the metadata is replaced (with the same content type). The copy keeps the checksum
// the key's Puts use (S3 computes it; CRC64NVME costs it least).
func (s *Store) copySelf(ctx context.Context, okey string) (time.Time, error) {
	var mod time.Time
	err := s.retry(ctx, "copy", okey, func(ctx context.Context) error {
		in := &s3.CopyObjectInput{Bucket: aws.String(s.core.Bucket), Key: aws.String(okey), CopySource: s.copySource(okey),
			MetadataDirective: types.MetadataDirectiveReplace, ChecksumAlgorithm: s.checksumFor(strings.TrimPrefix(okey, s.core.Prefix))}
		in.ContentType, in.ServerSideEncryption, in.SSEKMSKeyId, in.StorageClass = s.newObject()
		out, err := s.client.CopyObject(ctx, in, noRetry)
		if err != nil {
			return err
		}
		if out.CopyObjectResult != nil {
			mod = aws.ToTime(out.CopyObjectResult.LastModified)
		}
		return nil
	})
	if err == nil && mod.IsZero() {
		var info objectInfo
		info, err = s.head(ctx, okey)
		mod = info.modTime
	}
	return mod, err
}

// copyMultipart copies an object onto itself with UploadPartCopy, Concurrency parts at
// a time; S3 copies the bytes, the worker only sends requests. The upload has no
// checksum algorithm: S3 copies internally, and some servers would hand back the
// source's whole-object checksum for each part.
func (s *Store) copyMultipart(ctx context.Context, okey string, size int64) (time.Time, error) {
	err := s.multipart(ctx, okey, "", size, func(ctx context.Context, uploadID string, partSize int64, parts []types.CompletedPart) error {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(s.opts.Concurrency)
		for i := 0; i < len(parts) && gctx.Err() == nil; i++ {
			first, n := partRange(int64(i), int64(len(parts)), partSize, size)
			last := first + n - 1
			g.Go(func() error {
				num := int32(i + 1)
				return s.retry(gctx, fmt.Sprintf("copy part %d", num), okey, func(ctx context.Context) error {
					out, err := s.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
						Bucket:          aws.String(s.core.Bucket),
						Key:             aws.String(okey),
						UploadId:        aws.String(uploadID),
						PartNumber:      aws.Int32(num),
						CopySource:      s.copySource(okey),
						CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", first, last)),
					}, noRetry)
					if err != nil {
						return err
					}
					p := types.CompletedPart{PartNumber: aws.Int32(num)}
					if r := out.CopyPartResult; r != nil {
						p.ETag = r.ETag
					}
					parts[i] = p
					return nil
				})
			})
		}
		return g.Wait()
	})
	if err != nil {
		return time.Time{}, err
	}
	info, err := s.head(ctx, okey)
	return info.modTime, err
}
