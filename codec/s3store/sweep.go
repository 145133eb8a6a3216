package s3store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/sweep"
)

var _ sweep.Sweeper = (*Store)(nil)

// SweepUploads aborts the incomplete multipart uploads under the store's blob prefixes
// ("{prefix}v1/" and "{prefix}v2/", one per key version) that were initiated more than
// olderThan ago: what a worker killed mid-upload leaves (the store aborts its own failed
// uploads when it can). Completed objects are never touched, and nothing outside the
// prefixes is listed. With dryRun it only reports. It needs s3:ListBucketMultipartUploads
// and s3:AbortMultipartUpload (and s3:ListMultipartUploadParts to report sizes). Errors
// on single uploads are joined into the returned error; the report still lists every
// upload found.
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

// sweepPrefix lists the incomplete uploads under one blob prefix and sweeps those
// initiated before rep.Before.
func (s *Store) sweepPrefix(ctx context.Context, prefix string, rep *sweep.Report, dryRun bool, fail func(error)) error {
	var keyMarker, idMarker *string
	for {
		var out *s3.ListMultipartUploadsOutput
		err := s.retry(ctx, "list multipart uploads", prefix, func(ctx context.Context) error {
			var err error
			out, err = s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{
				Bucket: aws.String(s.core.Bucket), Prefix: aws.String(prefix),
				KeyMarker: keyMarker, UploadIdMarker: idMarker,
			}, noRetry)
			return err
		})
		if err != nil {
			return err
		}
		for _, u := range out.Uploads {
			if aws.ToTime(u.Initiated).After(rep.Before) {
				rep.Younger++
				continue
			}
			d, err := s.sweepUpload(ctx, u, dryRun)
			rep.Found = append(rep.Found, d)
			fail(err)
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		keyMarker, idMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// sweepUpload sizes one incomplete upload and, unless dryRun, aborts it.
func (s *Store) sweepUpload(ctx context.Context, u types.MultipartUpload, dryRun bool) (sweep.Debris, error) {
	okey, id := aws.ToString(u.Key), aws.ToString(u.UploadId)
	d := sweep.Debris{Kind: sweep.KindMultipartUpload, Name: okey, UploadID: id, Started: aws.ToTime(u.Initiated), Bytes: -1}
	if parts, size, err := s.uploadSize(ctx, okey, id); err == nil {
		d.Parts, d.Bytes = parts, size
	}
	if dryRun {
		return d, nil
	}
	for round := 1; round <= maxAbortRounds; round++ {
		if err := s.abortOnce(ctx, okey, id); err != nil {
			return d, fmt.Errorf("abort %s upload %s: %w", okey, id, err)
		}
		gone, err := s.uploadGone(ctx, okey, id)
		if err != nil {
			return d, fmt.Errorf("abort %s upload %s: %w", okey, id, err)
		}
		if gone {
			d.Freed = true
			s.stats.aborts.Add(1)
			return d, nil
		}
	}
	return d, fmt.Errorf("abort %s upload %s: parts still listed after %d aborts", okey, id, maxAbortRounds)
}

// uploadSize counts the parts and bytes an incomplete upload holds.
func (s *Store) uploadSize(ctx context.Context, okey, id string) (parts int, size int64, err error) {
	p := s3.NewListPartsPaginator(s.client, &s3.ListPartsInput{
		Bucket: aws.String(s.core.Bucket), Key: aws.String(okey), UploadId: aws.String(id),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, 0, err
		}
		for _, part := range out.Parts {
			parts++
			size += aws.ToInt64(part.Size)
		}
	}
	return parts, size, nil
}
