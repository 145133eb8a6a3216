package awsintegrity_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/internal/awsintegrity"
)

// sdkBodyError reads an object from a server that sends body with the CRC32 checksum
// header crc (base64), through an s3.Client built as applications build it
// (config.LoadDefaultConfig: response checksum validation "when supported"), and
// returns the error reading the body ends with.
func sdkBodyError(t *testing.T, body, crc string) error {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-amz-checksum-crc32", crc)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"), config.WithBaseEndpoint(srv.URL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AK", "SK", "")))
	if err != nil {
		t.Fatal(err)
	}
	cl := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	out, err := cl.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	_, err = io.ReadAll(out.Body)
	return err
}

// TestMismatch: the SDK's own check of a body against its CRC32 header is recognized,
// also wrapped and joined, and classified as driver.ErrCorrupt; an intact body and other
// errors are not.
func TestMismatch(t *testing.T) {
	const crcHello = "NhCmhg==" // CRC32 of "hello"
	if err := sdkBodyError(t, "hello", crcHello); err != nil {
		t.Fatalf("intact body: %v", err)
	}
	err := sdkBodyError(t, "hellO", crcHello)
	if err == nil {
		t.Fatal("the SDK did not check the body: the rule has nothing to classify")
	}
	for name, e := range map[string]error{
		"bare":    err,
		"wrapped": fmt.Errorf("get k: %w", err),
		"joined":  errors.Join(io.ErrUnexpectedEOF, fmt.Errorf("x: %w", err)),
	} {
		if !awsintegrity.Mismatch(e) {
			t.Errorf("%s: %v not recognized", name, e)
		}
		if c := awsintegrity.Classify(e); !errors.Is(c, driver.ErrCorrupt) || !driver.IsPermanent(c) {
			t.Errorf("%s: classified %v, want permanent ErrCorrupt", name, c)
		}
	}
	for _, e := range []error{nil, io.ErrUnexpectedEOF, errors.New("checksum did not match: algorithm CRC32")} {
		if awsintegrity.Mismatch(e) || awsintegrity.Classify(e) != e {
			t.Errorf("%v taken for the SDK's checksum mismatch", e)
		}
	}
}
