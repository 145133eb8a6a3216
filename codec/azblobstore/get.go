package azblobstore

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

// Get opens the blob for reading. The reader's Size reports the blob's length. The
// body is streamed; in a blob over PartSize the parts after the first are fetched as
// parallel ranges (Concurrency in flight, each retried on its own) while the first
// streams, all of the version (ETag) the first request saw. A body that breaks off is
// resumed from where it stopped; one that cannot be completed is an error
// (io.ErrUnexpectedEOF), never a short read. The reader stops with ctx; Close releases
// it.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	name, err := s.BlobName(key)
	if err != nil {
		return nil, fmt.Errorf("azblobstore get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("azblobstore get %s: %w", name, err)
	}
	bc := s.container.NewBlobClient(name)
	var rng blob.HTTPRange
	if s.opts.Concurrency > 1 {
		rng.Count = s.opts.PartSize
	}
	var resp blob.DownloadStreamResponse
	var size int64
	err = s.retry.DoStream(ctx, "get", name, func(ctx context.Context) error {
		var err error
		resp, err = bc.DownloadStream(noRetry(ctx), &blob.DownloadStreamOptions{Range: rng})
		if bloberror.HasCode(err, bloberror.InvalidRange) {
			resp, err = bc.DownloadStream(noRetry(ctx), nil) // an empty blob has no byte 0
		}
		if err != nil {
			return err
		}
		size, err = totalSize(resp)
		if err != nil {
			resp.Body.Close()
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("azblobstore get %s: %w", name, err)
	}
	s.stats.gets.Add(1)
	cond := &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: (*azcore.ETag)(resp.ETag)}}
	return blobxfer.NewReader(ctx, blobxfer.ReaderConfig{
		Name:        "azblobstore get " + name,
		Key:         name,
		Size:        size,
		ChunkSize:   s.opts.PartSize,
		Concurrency: s.opts.Concurrency,
		Retrier:     s.retry,
		Open: func(ctx context.Context, off, end int64) (io.ReadCloser, error) {
			r, err := bc.DownloadStream(noRetry(ctx), &blob.DownloadStreamOptions{
				Range: blob.HTTPRange{Offset: off, Count: end - off}, AccessConditions: cond})
			return r.Body, err
		},
		OnBytes: func(n int64) { s.stats.bytesDown.Add(n) },
	}, resp.Body, deref(resp.ContentLength)), nil
}

// totalSize returns the blob's length from a download's Content-Range ("bytes
// 0-1023/5000"), or its Content-Length when the whole blob was sent.
func totalSize(resp blob.DownloadStreamResponse) (int64, error) {
	cr := deref(resp.ContentRange)
	if cr == "" {
		return deref(resp.ContentLength), nil
	}
	_, total, ok := strings.Cut(cr, "/")
	n, err := strconv.ParseInt(total, 10, 64)
	if !ok || err != nil || n < deref(resp.ContentLength) || !strings.HasPrefix(cr, "bytes 0-") {
		return 0, fmt.Errorf("bad Content-Range %q", cr)
	}
	return n, nil
}
