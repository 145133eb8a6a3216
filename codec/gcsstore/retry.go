package gcsstore

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// classify maps a GCS error for driver.Retry: a missing object to driver.ErrNotFound,
// transient failures (408, 429, 5xx, connection reset or refused, a body cut short)
// unchanged so they are retried, and everything else (other 4xx, a refused checksum,
// misconfiguration) to driver.Permanent.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrObjectNotExist):
		return fmt.Errorf("%w: %w", driver.ErrNotFound, err)
	case storage.ShouldRetry(err), errors.Is(err, io.EOF):
		return err // io.EOF: a connection closed before the response
	default:
		return driver.Permanent(err)
	}
}

// isStatus reports whether err is a GCS API error with HTTP status code.
func isStatus(err error, code int) bool {
	var e *googleapi.Error
	return errors.As(err, &e) && e.Code == code
}

// preconditionFailed reports a write refused by its precondition (412): another writer
// created or changed the object first.
func preconditionFailed(err error) bool { return isStatus(err, http.StatusPreconditionFailed) }
