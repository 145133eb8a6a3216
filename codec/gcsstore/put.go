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

// Put stores size bytes from src under key unless the key already exists; created
// reports whether this call wrote the object. An existing object of that size is not
// read from src, only refreshed (see Touch). Objects up to PartSize go up in one
// request, larger ones as parts uploaded in parallel and composed into the object.
// Every upload carries the CRC32C and MD5 of its bytes, so GCS rejects a body corrupted
// on the way, and the object is created only by the final request (an upload or a
// compose) with the precondition that it does not exist yet: nothing partial is ever
// visible, and a concurrent writer of the same key is never overwritten.
//
// When src is an io.ReaderAt (bytes.Reader, os.File) it is read in place at [0, size),
// parts in parallel; otherwise it is read once, sequentially, each part buffered.
func (s *Store) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	return blobxfer.Put(ctx, s.core, s.ops, key, size, func(ctx context.Context, name string, old **storage.ObjectAttrs) error {
		cond := storage.Conditions{DoesNotExist: true} // create only
		if old != nil {
			cond = storage.Conditions{GenerationMatch: (*old).Generation} // replace that generation only
		}
		if size > s.opts.PartSize {
			return s.putComposed(ctx, name, src, size, cond)
		}
		return s.putSingle(ctx, name, src, size, cond)
	})
}

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
