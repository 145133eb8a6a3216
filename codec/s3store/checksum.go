package s3store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/minio/crc64nvme"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

// ErrChecksumRefused marks a request the server refused for the checksum algorithm
// its body carried (Options.Checksum): a server that lacks CRC64NVME (OpenStack Swift
// answers 501 NotImplemented) needs Options.Checksum CRC32C.
var ErrChecksumRefused = errors.New("s3store: the server does not support the request's checksum algorithm")

// checksumRefused reports whether apiErr says the server lacks algo: a 501, or a 400
// saying "not supported", that names the algorithm. A body that failed its check
// (BadDigest) or a malformed value is no such refusal.
func checksumRefused(apiErr smithy.APIError, algo types.ChecksumAlgorithm) bool {
	msg := strings.ToLower(apiErr.ErrorMessage())
	if !strings.Contains(msg, strings.ToLower(string(algo))) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "NotImplemented":
		return true
	case "InvalidArgument", "InvalidRequest", "InvalidChecksumHeader":
		return strings.Contains(msg, "support")
	}
	return false
}

// unsignedPayload is the SigV4 payload hash of a body the signature does not cover.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// castagnoli is the CRC32C table; hash/crc32 uses the CPU's CRC32 instruction for it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksumFor returns the checksum the request bodies of key carry: Options.Checksum
// for a v2 (BLAKE3) key, whose bodies go unsigned: the CRC guards them on the way and the
// BLAKE3 address, verified on read, end to end. Any other key (v1, SHA-256, or one of no
// content-address grammar) carries SHA-256, which doubles as the signed payload hash,
// as before v2.
func (s *Store) checksumFor(key string) types.ChecksumAlgorithm {
	if _, alg, _, err := driver.ParseKey(key); err == nil && alg == driver.BLAKE3 {
		return s.opts.Checksum
	}
	return types.ChecksumAlgorithmSha256
}

// validChecksum checks Options.Checksum, "" meaning CRC64NVME.
func validChecksum(c types.ChecksumAlgorithm) (types.ChecksumAlgorithm, error) {
	switch c {
	case "":
		return types.ChecksumAlgorithmCrc64nvme, nil
	case types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmCrc32c:
		return c, nil
	}
	return "", fmt.Errorf("s3store: Options.Checksum %q is neither %q nor %q", c, types.ChecksumAlgorithmCrc64nvme,
		types.ChecksumAlgorithmCrc32c)
}

// bodySum is what one request body carries for S3 to check: its checksum, which S3
// verifies and refuses a body corrupted on the way by, and the SigV4 payload hash.
type bodySum struct {
	algo    types.ChecksumAlgorithm
	value   string // base64, as in x-amz-checksum-*
	payload string // hex SHA-256 (reused from the checksum), or UNSIGNED-PAYLOAD
}

// sumSection returns the checksum of algo over n bytes of ra at off; fewer bytes is a
// source error.
func sumSection(ctx context.Context, algo types.ChecksumAlgorithm, ra io.ReaderAt, off, n int64) (bodySum, error) {
	var h hash.Hash
	switch algo {
	case types.ChecksumAlgorithmSha256:
		h = sha256.New()
	case types.ChecksumAlgorithmCrc64nvme:
		h = crc64nvme.New() // carry-less multiply; hash/crc64 with this polynomial is slower than SHA-256
	case types.ChecksumAlgorithmCrc32c:
		h = crc32.New(castagnoli)
	default:
		return bodySum{}, fmt.Errorf("s3store: no request checksum %q", algo)
	}
	if err := blobxfer.Hash(ctx, ra, off, n, h); err != nil {
		return bodySum{}, err
	}
	sum := h.Sum(nil)
	b := bodySum{algo: algo, value: base64.StdEncoding.EncodeToString(sum), payload: unsignedPayload}
	if algo == types.ChecksumAlgorithmSha256 {
		b.payload = hex.EncodeToString(sum)
	}
	return b, nil
}

// set stores the checksum in the field of its algorithm, of a request or a part.
func (b bodySum) set(sha, crc64, crc32c **string) {
	switch b.algo {
	case types.ChecksumAlgorithmSha256:
		*sha = aws.String(b.value)
	case types.ChecksumAlgorithmCrc64nvme:
		*crc64 = aws.String(b.value)
	case types.ChecksumAlgorithmCrc32c:
		*crc32c = aws.String(b.value)
	}
}

// withPayloadHash makes the SigV4 signer use b's payload hash instead of reading the
// body again: the SHA-256 checksum, or UNSIGNED-PAYLOAD for a CRC. A client configured
// for unsigned payloads is left so.
func withPayloadHash(b bodySum) func(*s3.Options) {
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
					return next.HandleFinalize(v4.SetPayloadHash(ctx, b.payload), in)
				}), id, middleware.Before)
		})
	}
}
