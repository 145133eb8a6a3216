// Package awschecksum recognises the AWS SDK's own integrity failure: with response
// checksum validation on (config.LoadDefaultConfig's default, "when supported"), a body
// whose bytes do not match the checksum S3 stored fails its last Read with an error of an
// unexported type of the SDK (service/internal/checksum). That is corruption, never an
// outage: the one rule lives here, for every reader of S3 objects.
package awschecksum

import (
	"errors"
	"strings"
)

// mismatchPrefix starts the message of the SDK's checksum validation error
// (service/internal/checksum validationError; its type is unexported).
const mismatchPrefix = "checksum did not match"

// IsMismatch reports whether err, or an error it wraps, is the AWS SDK's checksum
// validation failure.
func IsMismatch(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if strings.HasPrefix(err.Error(), mismatchPrefix) {
			return true
		}
	}
	return false
}
