package azblobstore

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
)

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
