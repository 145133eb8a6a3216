package fsck

import (
	"context"
	"errors"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// Statuses of a Problem.
const (
	StatusMissing = "missing" // the store has no such blob
	StatusCorrupt = "corrupt" // the blob's length or digest differs from the reference
	StatusInvalid = "invalid" // the reference itself does not parse
	StatusError   = "error"   // the check failed (store unreachable, denied): cannot tell
)

// checkBlob checks one referenced blob through the codec's one read path
// (codec.Codec.Check): that it exists with the reference's length and, with verify, that
// its bytes hash to the reference's digest, streaming in bounded memory. It returns ""
// for a good blob, else a status and detail.
func checkBlob(ctx context.Context, c *codec.Codec, r blobRef, verify bool) (status, detail string) {
	if err := c.Check(ctx, r.loc, verify); err != nil {
		return classify(err)
	}
	return "", ""
}

func classify(err error) (string, string) {
	switch {
	case errors.Is(err, driver.ErrNotFound):
		return StatusMissing, err.Error()
	case errors.Is(err, driver.ErrCorrupt):
		return StatusCorrupt, err.Error()
	}
	return StatusError, err.Error()
}
