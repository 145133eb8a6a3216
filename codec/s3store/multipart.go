package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

// abortTimeout bounds the abort of a failed upload, which runs on a fresh context so a
// cancelled Put still cleans up.
const abortTimeout = time.Minute

// partSizeFor returns the part size for an object: PartSize, or larger (whole MiB)
// when the object would need more than 10,000 parts.
func (s *Store) partSizeFor(size int64) int64 {
	return blobxfer.PartSize(size, s.opts.PartSize, maxParts)
}

// tailSlack is how many bytes past a multiple of the part size ride with the last part
// instead of making a part (and, on Get, a request) of their own: a codec blob is a
// payload and a few bytes of framing, so a 16 MiB payload would otherwise be a multipart
// upload whose second part holds 31 bytes, and a 32 MiB one three parts read back with
// three GETs. It keeps parts within S3's 5 GiB limit.
func tailSlack(partSize int64) int64 { return min(partSize/16, maxPartSize-partSize) }

// partCount returns how many parts an object of size bytes is cut into: parts of
// partSize, the last one also taking a remainder of up to tailSlack.
func partCount(size, partSize int64) int64 {
	if size == 0 {
		return 1
	}
	return blobxfer.PartCount(size, partSize, tailSlack(partSize))
}

// partRange returns the offset and length of part i (from 0) of n.
func partRange(i, n, partSize, size int64) (off, length int64) {
	off = i * partSize
	if i == n-1 {
		return off, size - off
	}
	return off, partSize
}

// multipart runs one multipart upload of an object of size bytes: it creates the upload
// (parts carrying checksums of algo, "" for none), lets send upload the parts (each
// filling its slot of parts), and completes the upload. Any failure aborts it after the
// parts in flight have ended, so nothing is visible and no parts are left.
func (s *Store) multipart(ctx context.Context, okey string, algo types.ChecksumAlgorithm, size int64,
	send func(ctx context.Context, uploadID string, partSize int64, parts []types.CompletedPart) error) (err error) {
	uploadID, err := s.createMultipart(ctx, okey, algo)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.abort(ctx, okey, uploadID, err)
		}
	}()
	partSize := s.partSizeFor(size)
	parts := make([]types.CompletedPart, partCount(size, partSize))
	if err := send(ctx, uploadID, partSize, parts); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.completeMultipart(ctx, okey, uploadID, parts, size)
}

// putMultipart writes the object as a multipart upload with part checksums of algo,
// Concurrency parts at a time (blobxfer.PartsTail: read in place or into reused
// buffers), each part retried on its own. The upload names no checksum type, so S3
// takes each algorithm's default: FULL_OBJECT for CRC64NVME (its only type), COMPOSITE
// for CRC32C and SHA-256, the type servers with checksums have supported longest. The
// complete call lists the part checksums; a whole-object checksum is left to S3.
func (s *Store) putMultipart(ctx context.Context, okey string, algo types.ChecksumAlgorithm, src io.Reader, size int64) error {
	send := func(ctx context.Context, uploadID string, partSize int64, parts []types.CompletedPart) error {
		return blobxfer.PartsTail(ctx, src, size, partSize, tailSlack(partSize), s.opts.Concurrency,
			func(ctx context.Context, i int, part io.ReaderAt, n int64) error {
				var err error
				parts[i], err = s.uploadPart(ctx, okey, uploadID, algo, int32(i+1), part, 0, n)
				return err
			})
	}
	return s.multipart(ctx, okey, algo, size, send)
}

// createMultipart starts a multipart upload whose parts carry checksums of algo ("" for
// none).
func (s *Store) createMultipart(ctx context.Context, okey string, algo types.ChecksumAlgorithm) (string, error) {
	var id string
	err := s.retry(ctx, "create multipart upload", okey, func(ctx context.Context) error {
		in := &s3.CreateMultipartUploadInput{Bucket: aws.String(s.core.Bucket), Key: aws.String(okey), ChecksumAlgorithm: algo}
		in.ContentType, in.ServerSideEncryption, in.SSEKMSKeyId, in.StorageClass = s.newObject()
		out, err := s.client.CreateMultipartUpload(ctx, in, noRetry)
		if err != nil {
			return err
		}
		id = aws.ToString(out.UploadId)
		return nil
	})
	if err == nil {
		s.stats.multiparts.Add(1)
	}
	return id, err
}

// uploadPart sends one part with a checksum of algo, retrying this part alone.
func (s *Store) uploadPart(ctx context.Context, okey, uploadID string, algo types.ChecksumAlgorithm, num int32, ra io.ReaderAt,
	off, n int64) (types.CompletedPart, error) {
	sum, err := sumSection(ctx, algo, ra, off, n)
	if err != nil {
		return types.CompletedPart{}, err
	}
	var etag *string
	err = s.retry(ctx, fmt.Sprintf("upload part %d", num), okey, func(ctx context.Context) error {
		b := blobxfer.NewBody(ra, off, n)
		in := &s3.UploadPartInput{
			Bucket:        aws.String(s.core.Bucket),
			Key:           aws.String(okey),
			UploadId:      aws.String(uploadID),
			PartNumber:    aws.Int32(num),
			Body:          b,
			ContentLength: aws.Int64(n),
		}
		sum.set(&in.ChecksumSHA256, &in.ChecksumCRC64NVME, &in.ChecksumCRC32C)
		out, err := s.client.UploadPart(ctx, in, noRetry, withPayloadHash(sum))
		if err = b.Finish(err); err != nil {
			return err
		}
		etag = out.ETag
		return nil
	})
	if err != nil {
		return types.CompletedPart{}, fmt.Errorf("part %d: %w", num, err)
	}
	s.core.Stats.BytesUp.Add(n)
	part := types.CompletedPart{PartNumber: aws.Int32(num), ETag: etag}
	sum.set(&part.ChecksumSHA256, &part.ChecksumCRC64NVME, &part.ChecksumCRC32C)
	return part, nil
}

// completeMultipart makes the object visible. A retry after a lost response may find
// the upload gone because the first attempt completed it: then the object is checked.
func (s *Store) completeMultipart(ctx context.Context, okey, uploadID string, parts []types.CompletedPart, size int64) error {
	attempts := 0
	return s.retry(ctx, "complete multipart upload", okey, func(ctx context.Context) error {
		attempts++
		_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket:          aws.String(s.core.Bucket),
			Key:             aws.String(okey),
			UploadId:        aws.String(uploadID),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		}, noRetry)
		if err != nil && attempts > 1 && isCode(err, "NoSuchUpload") {
			if info, herr := s.headOnce(ctx, okey); herr == nil && info.size == size {
				return nil
			}
		}
		return err
	})
}

// abort removes a failed upload's parts, on a fresh context bounded by abortTimeout. If
// S3 is unreachable the parts stay until the bucket's AbortIncompleteMultipartUpload
// lifecycle rule removes them.
//
// A part whose request the client gave up on (its context was cancelled when a sibling
// failed) may still be landing on the server while the abort runs, and S3 says such a
// part "might or might not succeed", so an upload may need aborting more than once. After
// each abort ListParts confirms the upload is gone (NoSuchUpload); if parts are listed,
// it is aborted again, up to maxAbortRounds times.
func (s *Store) abort(ctx context.Context, okey, uploadID string, cause error) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	var err error
	for round := 1; round <= maxAbortRounds; round++ {
		if err = s.abortOnce(actx, okey, uploadID); err != nil {
			break
		}
		var gone bool
		if gone, err = s.uploadGone(actx, okey, uploadID); err != nil || gone {
			break
		}
		err = fmt.Errorf("upload still has parts after %d aborts", round)
		s.core.Log.LogAttrs(ctx, slog.LevelWarn, "s3store: parts landed after the abort; aborting again", slog.String("store", s.String()),
			slog.String("key", okey), slog.String("upload_id", uploadID), slog.Int("round", round))
		select {
		case <-actx.Done():
		case <-time.After(time.Duration(round) * 100 * time.Millisecond): // let the late part finish
		}
	}
	if err != nil {
		s.core.Log.LogAttrs(ctx, slog.LevelError, "s3store: abort failed; parts remain until the lifecycle rule removes them",
			slog.String("store", s.String()), slog.String("key", okey), slog.String("upload_id", uploadID),
			slog.Any("cause", cause), slog.Any("err", err))
		return
	}
	s.stats.aborts.Add(1)
	s.core.Log.LogAttrs(ctx, slog.LevelWarn, "s3store: multipart upload aborted", slog.String("store", s.String()),
		slog.String("key", okey), slog.Any("cause", cause))
}

// maxAbortRounds bounds the aborts of one upload whose late parts keep landing.
const maxAbortRounds = 3

func (s *Store) abortOnce(ctx context.Context, okey, uploadID string) error {
	return s.retry(ctx, "abort multipart upload", okey, func(ctx context.Context) error {
		_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket:   aws.String(s.core.Bucket),
			Key:      aws.String(okey),
			UploadId: aws.String(uploadID),
		}, noRetry)
		if isCode(err, "NoSuchUpload") {
			return nil // already gone (completed by a lost response, or aborted)
		}
		return err
	})
}

// uploadGone asks whether an aborted upload is gone; it is not while ListParts answers.
func (s *Store) uploadGone(ctx context.Context, okey, uploadID string) (bool, error) {
	var gone bool
	err := s.retry(ctx, "list parts", okey, func(ctx context.Context) error {
		out, err := s.client.ListParts(ctx, &s3.ListPartsInput{
			Bucket:   aws.String(s.core.Bucket),
			Key:      aws.String(okey),
			UploadId: aws.String(uploadID),
			MaxParts: aws.Int32(1),
		}, noRetry)
		switch {
		case isCode(err, "NoSuchUpload"):
			gone = true
		case isCode(err, "AccessDenied"):
			// The minimal policy (OPERATIONS.md) has no s3:ListMultipartUploadParts: the
			// abort answered, and the lifecycle rule removes what a late part left.
			gone = true
		case err != nil:
			return err
		default:
			_ = out // the upload still exists, with or without parts: abort it again
		}
		return nil
	})
	return gone, err
}

// isCode reports whether err is an S3 API error with the given code.
func isCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}
