package s3store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/drivertest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestWorkflow200MiB sends 200 MiB through a real workflow on a Temporal dev server with
// s3store behind the codec (drivertest.Workflow): the one object in the bucket is a
// multipart upload (ETag "-13", 16 MiB parts) whose parts carried CRC64NVME checksums,
// which versitygw combined into the whole object's (FULL_OBJECT): the v2 key's checksum.
func TestWorkflow200MiB(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	store := newStore(t, srv, "", s3store.Options{})
	ctx := testenv.Context(t, 5*time.Minute)
	_, _, okey := drivertest.Workflow(t, ctx, drivertest.WorkflowRun{
		Dev:       testenv.Temporal(t, testenv.DevServerOptions{}),
		Store:     store,
		Name:      store.ObjectKey,
		List:      func(t testing.TB, ctx context.Context) []string { return listObjects(t, ctx, srv, store) },
		TaskQueue: "s3store-200mib",
		Size:      200 << 20,
		Seed:      4,
	})
	h, err := srv.NewClient().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(srv.Bucket), Key: aws.String(okey), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	etag, sum := strings.Trim(aws.ToString(h.ETag), `"`), aws.ToString(h.ChecksumCRC64NVME)
	t.Logf("object %s: %d bytes, ETag %s, ChecksumCRC64NVME %s (%s)", okey, aws.ToInt64(h.ContentLength), etag, sum, h.ChecksumType)
	if !strings.HasSuffix(etag, "-13") || sum == "" || h.ChecksumSHA256 != nil || h.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("ETag %s, checksum %s %s: want a 13-part multipart upload with CRC64NVME part checksums, combined", etag, sum, h.ChecksumType)
	}
	st := store.Stats()
	t.Logf("store stats: %+v", st)
	if st.Puts != 1 || st.MultipartUploads != 1 || st.Aborts != 0 {
		t.Errorf("store Stats() = %+v, want one multipart Put (the rest deduplicated)", st)
	}
}
