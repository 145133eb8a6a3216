package azblobstore

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// retryableStatus are the HTTP statuses worth another attempt.
var retryableStatus = map[int]bool{
	http.StatusRequestTimeout:      true, // 408
	http.StatusTooManyRequests:     true, // 429
	http.StatusInternalServerError: true, // 500
	http.StatusBadGateway:          true, // 502
	http.StatusServiceUnavailable:  true, // 503 ServerBusy
	http.StatusGatewayTimeout:      true, // 504
}

// classify maps an Azure error for driver.Retry: a missing blob to driver.ErrNotFound,
// transient failures (408, 429, 500, 502, 503 ServerBusy, 504, connection reset or
// refused, timeouts, a body cut short) unchanged so they are retried, and everything
// else (other 4xx such as Crc64Mismatch or AuthenticationFailed, misconfiguration) to
// driver.Permanent.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return fmt.Errorf("%w: %w", driver.ErrNotFound, err)
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		if retryableStatus[re.StatusCode] {
			return err
		}
		return driver.Permanent(err)
	}
	var ne net.Error
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.As(err, &ne) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) {
		return err
	}
	return driver.Permanent(err)
}

// alreadyExists reports a write refused because the blob exists (If-None-Match: *):
// another writer created it first.
func alreadyExists(err error) bool {
	return bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.ConditionNotMet)
}
