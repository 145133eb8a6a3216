// Package awsintegrity holds the one rule for the AWS SDK's own integrity failures: when
// the SDK checks a response body against the checksum S3 sent with it (an s3.Client from
// config.LoadDefaultConfig does so by default, "when supported") and the bytes differ, the
// object is corrupt. That is driver.ErrCorrupt, final: asking again returns the same bytes.
// s3store and temporals3 both classify with it.
package awsintegrity

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// The SDK reports a mismatch from the response body's Read, at its end, as a value of the
// unexported type validationError of this package ("checksum did not match: algorithm
// CRC32, expect ..., actual ..."). Its type is the only stable mark it has; the tests
// provoke the real error, so an SDK that changes it fails them.
const (
	sdkChecksumPkg  = "github.com/aws/aws-sdk-go-v2/service/internal/checksum"
	sdkChecksumType = "validationError"
)

// Mismatch reports whether err, or any error it wraps, is the AWS SDK's response
// checksum mismatch.
func Mismatch(err error) bool {
	if err == nil {
		return false
	}
	if t := reflect.TypeOf(err); t.PkgPath() == sdkChecksumPkg && t.Name() == sdkChecksumType {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return Mismatch(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if Mismatch(e) {
				return true
			}
		}
	}
	return false
}

// Classify returns err as driver.ErrCorrupt (which driver.Retry and every driver treat as
// final) when it is the SDK's checksum mismatch, else err unchanged.
func Classify(err error) error {
	if !Mismatch(err) || errors.Is(err, driver.ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: the AWS SDK's response checksum check failed: %w", driver.ErrCorrupt, err)
}
