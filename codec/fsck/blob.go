package fsck

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// Statuses of a Problem.
const (
	StatusMissing = "missing" // the store has no such blob
	StatusCorrupt = "corrupt" // the blob's length or digest differs from the reference
	StatusInvalid = "invalid" // the reference itself does not parse
	StatusError   = "error"   // the check failed (store unreachable, denied): cannot tell
)

// copyBufSize is the read buffer of a verifying check: memory stays bounded by it (and
// by the driver's read-ahead), not by the blob's size.
const copyBufSize = 256 << 10

// checkBlob checks one referenced blob: that it exists with the reference's length and,
// with verify, that its bytes hash to the reference's digest, streaming. It returns
// "" for a good blob, else a status and detail.
func checkBlob(ctx context.Context, store codec.Store, r blobRef, verify bool) (status, detail string) {
	if r.foreign != nil {
		if _, err := r.foreign.Read(ctx, r.namespace, r.payload); err != nil {
			return classify(err)
		}
		return "", ""
	}
	rc, err := store.Get(ctx, r.key)
	if err != nil {
		return classify(err)
	}
	defer rc.Close()
	if sz, ok := rc.(codec.Sizer); ok && sz.Size() >= 0 && sz.Size() != r.ref.Size {
		return StatusCorrupt, fmt.Sprintf("stored length %d, reference says %d", sz.Size(), r.ref.Size)
	}
	if !verify {
		return "", ""
	}
	h := sha256.New()
	n, err := io.CopyBuffer(h, io.LimitReader(rc, r.ref.Size+1), make([]byte, copyBufSize))
	switch {
	case err != nil:
		return classify(err)
	case n != r.ref.Size:
		return StatusCorrupt, fmt.Sprintf("read %d bytes, reference says %d", n, r.ref.Size)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != r.ref.SHA256 {
		return StatusCorrupt, fmt.Sprintf("sha256 of the stored bytes is %s, reference says %s", sum, r.ref.SHA256)
	}
	return "", ""
}

func classify(err error) (string, string) {
	switch {
	case errors.Is(err, codec.ErrNotFound):
		return StatusMissing, err.Error()
	case errors.Is(err, codec.ErrCorrupt):
		return StatusCorrupt, err.Error()
	}
	return StatusError, err.Error()
}
