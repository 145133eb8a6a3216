package s3store

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

// contentType of every object: blobs are opaque bytes.
const contentType = "application/octet-stream"

// Put stores size bytes from src under key. An existing object of that size is not
// rewritten, only refreshed (see Touch). Objects up to PartSize (and a sixteenth) go up
// in one PutObject, larger ones as a multipart upload with Concurrency parts in flight,
// the last part taking a remainder of up to a sixteenth of PartSize; every request
// carries the SHA-256 of its body, so S3 rejects a body corrupted on the way. A failed
// or cancelled multipart upload is aborted, so nothing is visible and no parts are left.
//
// When src is an io.ReaderAt (bytes.Reader, os.File, the codec's sources) parts are
// read from it in place and in parallel; otherwise src is read once, in order, and each
// part is buffered, so every request can be retried on its own. created is false when
// the object was there already: then src is not read.
func (s *Store) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	return blobxfer.Put(ctx, s.core, s.ops, key, size, func(ctx context.Context, okey string, _ *objectInfo) error {
		if size > s.opts.PartSize+tailSlack(s.opts.PartSize) { // a write replaces whatever is there
			return s.putMultipart(ctx, okey, src, size)
		}
		return s.putSingle(ctx, okey, src, size)
	})
}

// putSingle writes the object with one PutObject.
func (s *Store) putSingle(ctx context.Context, okey string, src io.Reader, size int64) error {
	ra, err := blobxfer.Section(ctx, src, size)
	if err != nil {
		return err
	}
	sum, err := hashSection(ctx, ra, 0, size)
	if err != nil {
		return err
	}
	err = s.retry(ctx, "put", okey, func(ctx context.Context) error {
		b := blobxfer.NewBody(ra, 0, size)
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:               aws.String(s.core.Bucket),
			Key:                  aws.String(okey),
			Body:                 b,
			ContentLength:        aws.Int64(size),
			ContentType:          aws.String(contentType),
			ChecksumSHA256:       aws.String(sum.base64()),
			ServerSideEncryption: s.opts.ServerSideEncryption,
			SSEKMSKeyId:          optString(s.opts.KMSKeyID),
			StorageClass:         s.opts.StorageClass,
		}, noRetry, withPayloadHash(sum))
		return b.Finish(err)
	})
	if err != nil {
		return err
	}
	s.core.Stats.BytesUp.Add(size)
	return nil
}

func optString(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}
