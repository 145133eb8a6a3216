package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/internal/blobxfer"
)

// apiErr builds the error the SDK returns for an S3 error response.
func apiErr(status int, code string) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: "test"},
		},
	}}
}

func TestClassify(t *testing.T) {
	connErr := func(errno syscall.Errno) error {
		return &smithy.OperationError{Err: &smithyhttp.RequestSendError{Err: &url.Error{Op: "Put", URL: "http://x",
			Err: &net.OpError{Op: "read", Net: "tcp", Err: errno}}}}
	}
	for _, tc := range []struct {
		name string
		err  error
		want string // "retry", "permanent", "notfound", "context"
	}{
		{"SlowDown503", apiErr(503, "SlowDown"), "retry"},
		{"InternalError500", apiErr(500, "InternalError"), "retry"},
		{"BadGateway502", apiErr(502, ""), "retry"},
		{"GatewayTimeout504", apiErr(504, ""), "retry"},
		{"RequestTimeout408", apiErr(408, "RequestTimeout"), "retry"},
		{"TooManyRequests429", apiErr(429, ""), "retry"},
		{"NotImplemented501", apiErr(501, "NotImplemented"), "permanent"},
		{"AccessDenied403", apiErr(403, "AccessDenied"), "permanent"},
		{"BadDigest400", apiErr(400, "BadDigest"), "permanent"},
		{"NoSuchUpload404", apiErr(404, "NoSuchUpload"), "permanent"},
		{"NoSuchKey404", apiErr(404, "NoSuchKey"), "notfound"},
		{"HeadNotFound404", apiErr(404, "NotFound"), "notfound"},
		{"SlowDownNoStatus", &smithy.GenericAPIError{Code: "SlowDown"}, "retry"},
		{"ConnectionReset", connErr(syscall.ECONNRESET), "retry"},
		{"ConnectionRefused", &url.Error{Op: "Put", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, "retry"},
		{"Timeout", &url.Error{Op: "Get", URL: "http://x", Err: timeoutErr{}}, "retry"},
		{"UnexpectedEOF", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), "retry"},
		{"SourceFailure", &blobxfer.SourceError{Err: errors.New("disk on fire")}, "permanent"},
		{"Unknown", errors.New("failed to sign request"), "permanent"},
		{"Canceled", fmt.Errorf("op: %w", context.Canceled), "context"},
		{"DeadlineExceeded", fmt.Errorf("op: %w", context.DeadlineExceeded), "context"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err)
			if !errors.Is(got, tc.err) {
				t.Errorf("classify lost the original error: %v", got)
			}
			var kind string
			switch {
			case errors.Is(got, driver.ErrNotFound):
				kind = "notfound"
			case errors.Is(got, context.Canceled), errors.Is(got, context.DeadlineExceeded):
				kind = "context"
			case driver.IsPermanent(got):
				kind = "permanent"
			default:
				kind = "retry"
			}
			if kind != tc.want {
				t.Errorf("classify(%v) is %s, want %s", tc.err, kind, tc.want)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in               string
		start, end, size int64
		bad              bool
	}{
		{in: "bytes 0-9/10", start: 0, end: 10, size: 10},
		{in: "bytes 5-9/*", start: 5, end: 10, size: -1},
		{in: "bytes 16777216-33554431/209715200", start: 16777216, end: 33554432, size: 209715200},
		{in: "bytes 0-10/10", bad: true},
		{in: "bytes 9-5/10", bad: true},
		{in: "items 0-9/10", bad: true},
		{in: "bytes */10", bad: true},
	} {
		start, end, size, err := parseContentRange(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parseContentRange(%q) = %d, %d, %d; want an error", tc.in, start, end, size)
			}
			continue
		}
		if err != nil || start != tc.start || end != tc.end || size != tc.size {
			t.Errorf("parseContentRange(%q) = %d, %d, %d, %v; want %d, %d, %d", tc.in, start, end, size, err, tc.start, tc.end, tc.size)
		}
	}
}

// TestRefusalHint: a refusal for signature, credentials or region says what to check;
// a refusal of the content and a missing object keep their own message.
func TestRefusalHint(t *testing.T) {
	s, err := New(s3.New(s3.Options{Region: "eu-west-3"}), "bkt", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		err  error
		hint bool
	}{
		{apiErr(400, "BadRequest"), true}, // HEAD: no body, the code comes from the status
		{apiErr(403, "SignatureDoesNotMatch"), true},
		{apiErr(400, "AuthorizationHeaderMalformed"), true},
		{apiErr(403, "AccessDenied"), true},
		{apiErr(400, "BadDigest"), false},
		{apiErr(400, "XAmzContentChecksumMismatch"), false},
		{fmt.Errorf("%w: %w", driver.ErrNotFound, apiErr(404, "NotFound")), false},
		{errors.New("no status"), false},
	} {
		got := s.refusalHint(driver.Permanent(tc.err))
		hinted := strings.Contains(got.Error(), `bucket "bkt" is in region "eu-west-3"`)
		if hinted != tc.hint {
			t.Errorf("%v: hinted = %v, want %v (%v)", tc.err, hinted, tc.hint, got)
		}
		if !errors.Is(got, tc.err) || !driver.IsPermanent(got) {
			t.Errorf("%v: hint lost the wrapped error or its permanence: %v", tc.err, got)
		}
	}
}
