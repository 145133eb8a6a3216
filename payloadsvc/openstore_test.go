package payloadsvc

import (
	"bytes"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

func TestOpenStoreLocal(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	s, err := OpenStore(ctx, "mem://")
	if _, ok := s.(*memstore.Store); err != nil || !ok {
		t.Fatalf("OpenStore(mem://) = %T, %v", s, err)
	}
	dir := filepath.Join(t.TempDir(), "blobs")
	s, err = OpenStore(ctx, "file://"+dir)
	if fs, ok := s.(*filestore.Store); err != nil || !ok || fs.Dir() != dir {
		t.Fatalf("OpenStore(file://%s) = %v, %v", dir, s, err)
	}
	for _, tc := range []struct{ url, want string }{
		{"mem://x", "mem:// takes no host"},
		{"file://host/dir", "three slashes"},
		{"file://", "no directory"},
		{"ftp://bucket", `scheme "ftp"`},
		{"gs:///prefix", "no bucket"},
		{"gs://bucket/p?auth=yes", "auth="},
		{"azblob:///prefix", "no container"},
		{"azblob://c/p?acount=x", `unknown parameter "acount"`},
		{"/var/lib/x", `scheme ""`},
		{"s3:///prefix", "no bucket"},
		{"s3://bucket/p?endpont=http://x", `unknown parameter "endpont"`},
		{"s3://bucket/bad..//prefix", "prefix"},
	} {
		if _, err := OpenStore(ctx, tc.url); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("OpenStore(%q): err = %v, want one naming %q", tc.url, err, tc.want)
		}
	}
}

// TestOpenStoreS3 opens an s3:// URL against versitygw in eu-central-1 (so the URL's
// region must reach the client: the server refuses requests signed for another),
// credentials from the environment as in production, and round-trips a blob through
// the service into the bucket under the prefix.
func TestOpenStoreS3(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{Region: "eu-central-1"})
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ctx := testCtx(t, 2*time.Minute)

	storeURL := "s3://" + srv.Bucket + "/team-a/payloads?endpoint=" + url.QueryEscape(srv.Endpoint) + "&region=" + srv.Region
	store, err := OpenStore(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(store.(interface{ String() string }).String(), "s3://"+srv.Bucket+"/team-a/payloads/") {
		t.Fatalf("store %v: want bucket and prefix from the URL", store)
	}
	svc := startService(t, store, Options{ReadyInterval: time.Nanosecond}) // probe on every /readyz
	c := svc.client(t, blobclient.Options{})
	b, digest := randomBlob(t, 6<<20)
	key, _ := driver.Key("default", digest)
	if _, err := c.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	storetest.EqualBlobs(t, storetest.ReadBlob(t, ctx, c, key), b) // through the service from S3
	head, err := srv.NewClient().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(srv.Bucket), Key: aws.String("team-a/payloads/" + key)})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(b)) {
		t.Fatalf("object team-a/payloads/%s in the bucket: %v", key, err)
	}
	if status, _, body := svc.do(t, "GET", "/readyz", nil, nil); status != 200 {
		t.Fatalf("/readyz with S3 up: %d %s", status, short(body))
	}
	srv.Kill()
	if status, _, body := svc.do(t, "GET", "/readyz", nil, nil); status != 503 || !strings.Contains(string(body), "store unreachable") {
		t.Fatalf("/readyz with S3 down: %d %s, want 503", status, short(body))
	}
}
