package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewDefaultConfigClient returns a client for the server built the way applications build
// one: config.LoadDefaultConfig (so the SDK's defaults hold: request checksums and
// response checksum validation "when supported") with the server's static credentials,
// region and endpoint, and path-style addressing. NewClient, by contrast, starts from a
// bare s3.Options.
func (s *S3Server) NewDefaultConfigClient(t testing.TB) *s3.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(s.Region),
		config.WithBaseEndpoint(s.Endpoint),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, "")),
	)
	if err != nil {
		t.Fatalf("testenv: LoadDefaultConfig: %v", err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// CountingS3 is an S3 client that counts its GetObject calls, so a test sees whether a
// reader retried.
type CountingS3 struct {
	*s3.Client
	gets atomic.Int64
}

// GetObject counts the call and makes it.
func (c *CountingS3) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c.gets.Add(1)
	return c.Client.GetObject(ctx, in, opts...)
}

// Gets is the number of GetObject calls so far.
func (c *CountingS3) Gets() int64 { return c.gets.Load() }

// CorruptObject flips one byte of the stored object in the posix backend's directory,
// in place, so its stored checksums (extended attributes) stay as they were: what a
// disk or a bug in the storage layer does to an object.
func (s *S3Server) CorruptObject(t testing.TB, key string) {
	t.Helper()
	path := filepath.Join(s.Root, s.Bucket, filepath.FromSlash(key))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("testenv: corrupt object: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err == nil && st.Size() == 0 {
		err = fmt.Errorf("%s is empty", path)
	}
	if err != nil {
		t.Fatalf("testenv: corrupt object: %v", err)
	}
	b := make([]byte, 1)
	off := st.Size() / 2
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatalf("testenv: corrupt object: %v", err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatalf("testenv: corrupt object: %v", err)
	}
}
