package s3store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/internal/testenv"
)

// EchoActivity returns its input.
func EchoActivity(_ context.Context, b []byte) ([]byte, error) { return b, nil }

// EchoWorkflow hands its input to EchoActivity and returns what comes back.
func EchoWorkflow(ctx workflow.Context, b []byte) ([]byte, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var out []byte
	err := workflow.ExecuteActivity(ctx, EchoActivity, b).Get(ctx, &out)
	return out, err
}

// TestWorkflow200MiB sends 200 MiB through a real workflow on a Temporal dev server with
// s3store behind the codec: workflow input -> activity input -> activity result ->
// workflow result. History holds only references; the one object in the bucket is a
// multipart upload (ETag and composite SHA-256 "-13", 16 MiB parts) whose key is the
// SHA-256 of its bytes, and the bytes come back intact.
func TestWorkflow200MiB(t *testing.T) {
	const size = 200 << 20
	srv := testenv.S3(t, testenv.S3Options{})
	dev := testenv.Temporal(t, testenv.DevServerOptions{})
	store := newStore(t, srv, "", s3store.Options{})
	// Random bytes do not compress; NoCompression skips the codec's zstd attempt, so the
	// stored bytes are the serialized payload.
	c, err := codec.New(store, codec.Options{Namespace: dev.Namespace, Compression: codec.NoCompression})
	if err != nil {
		t.Fatal(err)
	}
	cl := dev.Client(t, client.Options{DataConverter: codec.NewDataConverter(c, nil)})
	w := worker.New(cl, "s3store-200mib", worker.Options{})
	w.RegisterWorkflow(EchoWorkflow)
	w.RegisterActivity(EchoActivity)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	in := make([]byte, size)
	rand.NewChaCha8([32]byte{4}).Read(in)
	ctx := testenv.Context(t, 5*time.Minute)
	run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		TaskQueue:           "s3store-200mib",
		WorkflowTaskTimeout: time.Minute, // storing 200 MiB in a workflow task under -race
	}, EchoWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	if err := run.Get(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, in) {
		t.Fatalf("workflow returned %d bytes (sha256 %x), want the %d input bytes", len(out), sha256.Sum256(out), size)
	}

	// The workflow's input in history is a reference to the object.
	hist := cl.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := hist.Next()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := codec.ParseReference(first.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0])
	if err != nil {
		t.Fatalf("workflow input in history is not a reference: %v", err)
	}

	prefix := store.Options().Prefix + "/"
	list, err := srv.NewClient().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(srv.Bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 1 {
		t.Fatalf("bucket holds %d objects under %s, want 1 (the same payload deduplicated)", len(list.Contents), prefix)
	}
	okey := aws.ToString(list.Contents[0].Key)
	key, err := codec.BlobKey(dev.Namespace, ref.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := store.ObjectKey(key); okey != want {
		t.Errorf("object %s, but history references %s", okey, want)
	}
	h, err := srv.NewClient().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(srv.Bucket), Key: aws.String(okey), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	etag, sum := strings.Trim(aws.ToString(h.ETag), `"`), aws.ToString(h.ChecksumSHA256)
	t.Logf("object %s: %d bytes, ETag %s, ChecksumSHA256 %s (%s)", okey, aws.ToInt64(h.ContentLength), etag, sum, h.ChecksumType)
	if !strings.HasSuffix(etag, "-13") || !strings.HasSuffix(sum, "-13") || h.ChecksumType != types.ChecksumTypeComposite {
		t.Errorf("ETag %s, checksum %s %s: want a 13-part multipart upload with SHA-256 part checksums", etag, sum, h.ChecksumType)
	}

	r, err := store.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	hash := sha256.New()
	n, err := io.Copy(hash, r)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != path.Base(okey) || n != ref.Size {
		t.Errorf("stored object: %d bytes with sha256 %s; want %d bytes, sha256 = its key %s", n, got, ref.Size, okey)
	}
	st := store.Stats()
	t.Logf("store stats: %+v; codec stats: %+v", st, c.Stats())
	if st.Puts != 1 || st.MultipartUploads != 1 || st.Aborts != 0 {
		t.Errorf("store Stats() = %+v, want one multipart Put (the rest deduplicated)", st)
	}
}
