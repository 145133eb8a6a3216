package s3store_test

import (
	"bytes"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/codec/storeurl"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/depcheck"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestNoWorkflowDependency: the driver links the driver contract, not the codec and
// the SDK's workflow package.
func TestNoWorkflowDependency(t *testing.T) {
	depcheck.Forbid(t, "github.com/seed-a62fcf0e/longhaul/codec/s3store",
		"go.temporal.io/sdk/workflow", "github.com/seed-a62fcf0e/longhaul/codec")
}

func TestOpenBadURL(t *testing.T) {
	noAWSConfig(t)
	ctx := testenv.Context(t, time.Minute)
	for _, tc := range []struct{ url, want string }{
		{"s3:///prefix", "no bucket (want s3://bucket/prefix)"},
		{"s3://bucket/p?endpont=http://x", `unknown parameter "endpont" (known: checksum, endpoint, region)`},
		{"s3://bucket/p?checksum=md5", `Options.Checksum "MD5" is neither "CRC64NVME" nor "CRC32C"`},
		{"s3://bucket/bad..//prefix", "prefix"},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s3store.Open(ctx, u); !errors.Is(err, storeurl.ErrInvalidURL) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%s): err = %v, want ErrInvalidURL naming %q", tc.url, err, tc.want)
		}
	}
}

// TestOpenStoreS3 opens an s3:// URL against versitygw in eu-central-1 (so the URL's
// region must reach the client: the server refuses requests signed for another),
// credentials from the environment as in production, and round-trips a blob under a v2
// key into the bucket under the prefix, its bodies carrying CRC32C (checksum=crc32c).
func TestOpenStoreS3(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{Region: "eu-central-1"})
	noAWSConfig(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	ctx := testenv.Context(t, 2*time.Minute)

	u, err := url.Parse("s3://" + srv.Bucket + "/team-a/payloads?endpoint=" + url.QueryEscape(srv.Endpoint) + "&region=" + srv.Region +
		"&checksum=crc32c")
	if err != nil {
		t.Fatal(err)
	}
	store, err := s3store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(store.(interface{ String() string }).String(), "s3://"+srv.Bucket+"/team-a/payloads/") {
		t.Fatalf("store %v: want bucket and prefix from the URL", store)
	}
	if got := store.(*s3store.Store).Options().Checksum; got != types.ChecksumAlgorithmCrc32c {
		t.Errorf("Options().Checksum = %q, want CRC32C from the URL", got)
	}
	b, key := storetest.RandomBlobFor(t, driver.BLAKE3, "default", 6<<20)
	if _, err := store.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, store, key), b)
	head, err := srv.NewClient().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(srv.Bucket), Key: aws.String("team-a/payloads/" + key)})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(b)) {
		t.Fatalf("object team-a/payloads/%s in the bucket: %v", key, err)
	}
}

// noAWSConfig keeps the machine's AWS files and instance metadata out of the test.
func noAWSConfig(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
}
