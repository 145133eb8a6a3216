package s3store

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

// contentType of every object: blobs are opaque bytes.
const contentType = "application/octet-stream"

// putSingle writes the object with one PutObject whose body carries a checksum of algo.
func (s *Store) putSingle(ctx context.Context, okey string, algo types.ChecksumAlgorithm, src io.Reader, size int64) error {
	ra, err := blobxfer.Section(ctx, src, size)
	if err != nil {
		return err
	}
	sum, err := sumSection(ctx, algo, ra, 0, size)
	if err != nil {
		return err
	}
	err = s.retry(ctx, "put", okey, func(ctx context.Context) error {
		b := blobxfer.NewBody(ra, 0, size)
		in := &s3.PutObjectInput{Bucket: aws.String(s.core.Bucket), Key: aws.String(okey), Body: b,
			ContentLength: aws.Int64(size)}
		sum.set(&in.ChecksumSHA256, &in.ChecksumCRC64NVME, &in.ChecksumCRC32C)
		in.ContentType, in.ServerSideEncryption, in.SSEKMSKeyId, in.StorageClass = s.newObject()
		_, err := s.client.PutObject(ctx, in, noRetry, withPayloadHash(sum))
		return b.Finish(err)
	})
	if err != nil {
		return err
	}
	s.core.Stats.BytesUp.Add(size)
	return nil
}

// newObject returns what every object the store writes carries (PutObject,
// CreateMultipartUpload, and CopyObject, which replaces the metadata): the content type,
// and the options' encryption and storage class.
func (s *Store) newObject() (ct *string, sse types.ServerSideEncryption, kmsKey *string, class types.StorageClass) {
	return aws.String(contentType), s.opts.ServerSideEncryption, optString(s.opts.KMSKeyID), s.opts.StorageClass
}

func optString(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}
