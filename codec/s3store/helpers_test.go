package s3store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/codec/storetest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// newStore returns a store with a fresh prefix on srv, reached through endpoint (the
// server itself when empty, or a proxy in front of it).
func newStore(t testing.TB, srv *testenv.S3Server, endpoint string, opts s3store.Options) *s3store.Store {
	t.Helper()
	if endpoint == "" {
		endpoint = srv.Endpoint
	}
	if opts.Prefix == "" {
		opts.Prefix = testenv.UniquePrefix()
	}
	if opts.Logger == nil {
		opts.Logger = testenv.Logger(t)
	}
	s, err := s3store.New(srv.NewClientFor(endpoint), srv.Bucket, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// blob returns n random bytes and their content-address key (v1, SHA-256).
func blob(t testing.TB, n int) ([]byte, string) { return storetest.RandomBlob(t, "s3test", n) }

// blobFor is blob with a key naming hash: driver.SHA256 (v1) or driver.BLAKE3 (v2).
func blobFor(t testing.TB, hash string, n int) ([]byte, string) {
	return storetest.RandomBlobFor(t, hash, "s3test", n)
}

// headObject returns the object's HEAD, or nil when it does not exist.
func headObject(t testing.TB, ctx context.Context, srv *testenv.S3Server, s *s3store.Store, key string) *s3.HeadObjectOutput {
	t.Helper()
	okey, err := s.ObjectKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out, err := srv.NewClient().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(srv.Bucket), Key: aws.String(okey)})
	if err != nil {
		var nf *types.NotFound
		if errors.As(err, &nf) {
			return nil
		}
		t.Fatalf("HEAD %s: %v", okey, err)
	}
	return out
}

// pendingUploads lists the multipart uploads in progress in the bucket.
func pendingUploads(t testing.TB, ctx context.Context, srv *testenv.S3Server) []string {
	t.Helper()
	out, err := srv.NewClient().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(srv.Bucket)})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
	}
	return keys
}

// listObjects returns the keys of the objects under the store's prefix.
func listObjects(t testing.TB, ctx context.Context, srv *testenv.S3Server, s *s3store.Store) []string {
	t.Helper()
	out, err := srv.NewClient().ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: aws.String(srv.Bucket), Prefix: aws.String(s.Options().Prefix + "/")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}
