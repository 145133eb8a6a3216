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
