package s3store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

// digest is the SHA-256 of one request body: S3 checks it (x-amz-checksum-sha256)
// and rejects a body that was corrupted on the way, and the signer reuses it as the
// payload hash, so each byte is hashed once.
type digest [sha256.Size]byte

func (d digest) base64() string { return base64.StdEncoding.EncodeToString(d[:]) }

// hashSection returns the SHA-256 of n bytes of ra at off; fewer bytes is a source error.
func hashSection(ctx context.Context, ra io.ReaderAt, off, n int64) (digest, error) {
	h := sha256.New()
	if err := blobxfer.Hash(ctx, ra, off, n, h); err != nil {
		return digest{}, err
	}
	var d digest
	h.Sum(d[:0])
	return d, nil
}

// withPayloadHash makes the SigV4 signer use d instead of reading the body again.
// A client configured for unsigned payloads is left so.
func withPayloadHash(d digest) func(*s3.Options) {
	hexSum := hex.EncodeToString(d[:])
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			const id = "ComputePayloadHash" // v4.ComputePayloadSHA256 (or UnsignedPayload)
			if m, ok := st.Finalize.Get(id); !ok {
				return nil
			} else if _, unsigned := m.(*v4.UnsignedPayload); unsigned {
				return nil // the client chose unsigned payloads; the checksum still guards the body
			}
			return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("longhaulPayloadHash",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
					middleware.FinalizeOutput, middleware.Metadata, error) {
					return next.HandleFinalize(v4.SetPayloadHash(ctx, hexSum), in)
				}), id, middleware.Before)
		})
	}
}
