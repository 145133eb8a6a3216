package gcsstore

import (
	"context"
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

// upload sends n bytes of ra as obj in one request with their CRC32C, retried on its
// own, and returns the CRC32C; customTime, when not zero, is set on the new object.
// GCS verifies the CRC32C and refuses a body that does not match (400). No MD5 is
// sent: CRC32C is computed in hardware (SSE4.2, ARMv8 CRC) at memory speed, MD5 at
// a twentieth of it, and integrity end to end rests on the content address, which
// the reader verifies.
func (s *Store) upload(ctx context.Context, obj *storage.ObjectHandle, ra io.ReaderAt, n int64, customTime time.Time) (uint32, error) {
	h := crc32.New(castagnoli)
	if err := blobxfer.Hash(ctx, ra, 0, n, h); err != nil {
		return 0, err
	}
	crc := h.Sum32()
	err := s.core.Retrier.Do(ctx, "upload", obj.ObjectName(), func(ctx context.Context) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel() // a failed copy cancels the upload: nothing is written
		w := obj.NewWriter(ctx)
		w.ChunkSize = 0 // one request; retries are ours
		w.ContentType = contentType
		w.StorageClass = s.opts.StorageClass
		w.CustomTime = customTime
		w.CRC32C, w.SendCRC32C = crc, true
		w.DisableAutoChecksum = true // the sum is ours, computed once for all attempts
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
		return 0, err
	}
	s.core.Stats.BytesUp.Add(n)
	return crc, nil
}
