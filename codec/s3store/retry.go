package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/internal/awsintegrity"
	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

// noRetry turns off the client's retryer for one call: retries live in Store.retry
// alone, so they are bounded and counted in one place.
func noRetry(o *s3.Options) { o.Retryer = aws.NopRetryer{} }

// retry runs one S3 request under the store's retry policy (blobxfer.Retrier.Do):
// transient failures are retried and counted; the final error is wrapped in
// driver.Permanent, and a refused request gets refusalHint.
func (s *Store) retry(ctx context.Context, op, okey string, fn func(ctx context.Context) error) error {
	return s.core.Retrier.Do(ctx, op, okey, fn)
}

// refusalHint adds what to check to a request the server refused for its signature,
// credentials or region. For HEAD there is no error body, so the bare status is all a
// user would see ("400 Bad Request"); a request signed for the wrong region or with
// wrong credentials is the usual cause. Refusals of the content (a bad checksum) keep
// their own message.
func (s *Store) refusalHint(err error) error {
	var apiErr smithy.APIError
	if errors.Is(err, driver.ErrNotFound) || !errors.As(err, &apiErr) {
		return err
	}
	if checksumRefused(apiErr, s.opts.Checksum) {
		if s.opts.Checksum == types.ChecksumAlgorithmCrc64nvme {
			return fmt.Errorf("%w: %w (set Options.Checksum to CRC32C, or checksum=crc32c in the store URL)", err, ErrChecksumRefused)
		}
		return fmt.Errorf("%w: %w", err, ErrChecksumRefused)
	}
	if !refusalCodes[apiErr.ErrorCode()] {
		return err
	}
	return fmt.Errorf("%w (the server refused the request: check that bucket %q is in region %q, which the client signs for, "+
		"and the credentials and permissions)", err, s.core.Bucket, s.client.Options().Region)
}

// refusalCodes are the S3 error codes of requests refused for who sent them or where,
// and the generic codes a body-less (HEAD) refusal gets from its status.
var refusalCodes = map[string]bool{
	"BadRequest": true, "Forbidden": true, "Unauthorized": true, "MovedPermanently": true,
	"AccessDenied": true, "SignatureDoesNotMatch": true, "InvalidAccessKeyId": true,
	"AuthorizationHeaderMalformed": true, "AuthorizationQueryParametersError": true,
	"InvalidToken": true, "ExpiredToken": true, "PermanentRedirect": true,
}

// retryableStatus are the HTTP statuses worth another attempt.
var retryableStatus = map[int]bool{
	http.StatusRequestTimeout:      true, // 408
	http.StatusTooManyRequests:     true, // 429
	http.StatusInternalServerError: true, // 500
	http.StatusBadGateway:          true, // 502
	http.StatusServiceUnavailable:  true, // 503 (SlowDown)
	http.StatusGatewayTimeout:      true, // 504
}

// retryableCodes are S3 error codes worth another attempt, for when no status is known.
var retryableCodes = map[string]bool{
	"SlowDown": true, "InternalError": true, "ServiceUnavailable": true,
	"RequestTimeout": true, "RequestTimeTooSkewed": true, "Throttling": true,
}

// classify maps an S3 error for driver.Retry: a missing object to driver.ErrNotFound, the
// SDK's response checksum mismatch to driver.ErrCorrupt (awsintegrity),
// transient failures (503 SlowDown, 500, 502, 504, 408, 429, connection reset or
// refused, timeouts, a body cut short) unchanged so they are retried, and everything
// else (4xx, source errors, SDK misconfiguration) to driver.Permanent.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err // the caller's context: final
	}
	var se *blobxfer.SourceError
	if errors.As(err, &se) {
		return driver.Permanent(err)
	}
	if awsintegrity.Mismatch(err) {
		return awsintegrity.Classify(err) // the SDK's checksum check: corrupt, not transient
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("%w: %w", driver.ErrNotFound, err)
		}
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() != 0 {
		if retryableStatus[status.HTTPStatusCode()] {
			return err
		}
		return driver.Permanent(err)
	}
	if apiErr != nil && retryableCodes[apiErr.ErrorCode()] {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return err // connection closed mid-response
	}
	if (awsretry.RetryableConnectionError{}).IsErrorRetryable(err) == aws.TrueTernary {
		return err
	}
	return driver.Permanent(err)
}
