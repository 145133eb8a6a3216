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
	return s.core.Get(ctx, key, func(ctx context.Context, name string) (blobxfer.First, error) {
		// One attempt: the first PartSize bytes, or all when ranges are not fetched in
		// parallel; later ranges are read If-Match the version it saw.
		bc := s.container.NewBlobClient(name)
		var rng blob.HTTPRange
		if s.opts.Concurrency > 1 {
			rng.Count = s.opts.PartSize
		}
		resp, err := bc.DownloadStream(noRetry(ctx), &blob.DownloadStreamOptions{Range: rng})
		if bloberror.HasCode(err, bloberror.InvalidRange) {
			resp, err = bc.DownloadStream(noRetry(ctx), nil) // an empty blob has no byte 0
		}
		if err != nil {
			return blobxfer.First{}, err
		}
		size, err := totalSize(resp)
		if err != nil {
			resp.Body.Close()
			return blobxfer.First{}, err
		}
		cond := &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: (*azcore.ETag)(resp.ETag)}}
		return blobxfer.First{Body: resp.Body, End: deref(resp.ContentLength), Size: size,
			Open: func(ctx context.Context, off, end int64) (io.ReadCloser, error) {
				r, err := bc.DownloadStream(noRetry(ctx), &blob.DownloadStreamOptions{
					Range: blob.HTTPRange{Offset: off, Count: end - off}, AccessConditions: cond})
				return r.Body, err
			}}, nil
	})
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
