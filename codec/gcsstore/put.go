package gcsstore

import (
	"context"
	"crypto/md5"
	"hash/crc32"
	"io"
	"time"

	"cloud.google.com/go/storage"

	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

// contentType of every object: blobs are opaque bytes.
const contentType = "application/octet-stream"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// putSingle writes the object in one request.
func (s *Store) putSingle(ctx context.Context, name string, src io.Reader, size int64, cond storage.Conditions) error {
	ra, err := blobxfer.Section(ctx, src, size)
	if err != nil {
		return err
	}
	_, err = s.upload(ctx, s.bucket.Object(name).If(cond), ra, size, time.Now())
	return err
}

// checksums are what GCS verifies an upload against.
type checksums struct {
	crc32c uint32
	md5    []byte
}

// upload sends n bytes of ra as obj in one request with their CRC32C and MD5, retried
// on its own; customTime, when not zero, is set on the new object.
func (s *Store) upload(ctx context.Context, obj *storage.ObjectHandle, ra io.ReaderAt, n int64, customTime time.Time) (checksums, error) {
	crc, md := crc32.New(castagnoli), md5.New()
	if err := blobxfer.Hash(ctx, ra, 0, n, crc, md); err != nil {
		return checksums{}, err
	}
	sums := checksums{crc32c: crc.Sum32(), md5: md.Sum(nil)}
	err := s.core.Retrier.Do(ctx, "upload", obj.ObjectName(), func(ctx context.Context) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel() // a failed copy cancels the upload: nothing is written
		w := obj.NewWriter(ctx)
		w.ChunkSize = 0 // one request; retries are ours
		w.ContentType = contentType
		w.StorageClass = s.opts.StorageClass
		w.CustomTime = customTime
		w.CRC32C, w.SendCRC32C, w.MD5 = sums.crc32c, true, sums.md5
		w.DisableAutoChecksum = true
		body := blobxfer.NewBody(ra, 0, n)
		_, err := io.Copy(w, body)
		if err != nil {
			cancel()
			_ = w.Close()
			return body.Finish(err)
		}
		return body.Finish(w.Close())
	})
	if err != nil {
		return checksums{}, err
	}
	s.core.Stats.BytesUp.Add(n)
	return sums, nil
}
