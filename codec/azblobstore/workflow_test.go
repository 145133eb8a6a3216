package azblobstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"path"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
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

// TestWorkflow sends 40 MiB through a real workflow on a Temporal dev server with
// azblobstore on Azurite behind the codec: workflow input -> activity input ->
// activity result -> workflow result. History holds only references; the one blob
// under the prefix was committed from 8 MiB blocks, its name is the SHA-256 of its
// bytes, and the bytes come back intact. (The
// 200 MiB round trip is TestMemoryBound200MiB, without Temporal, to keep CI short.)
func TestWorkflow(t *testing.T) {
	const size = 40 << 20
	srv := testenv.Azurite(t, testenv.AzuriteOptions{})
	dev := testenv.Temporal(t, testenv.DevServerOptions{})
	store := newStore(t, srv, "", azblobstore.Options{PartSize: 8 << 20})
	// Random bytes do not compress; NoCompression stores the serialized payload.
	c, err := codec.New(store, codec.Options{Namespace: dev.Namespace, Compression: codec.NoCompression})
	if err != nil {
		t.Fatal(err)
	}
	cl := dev.Client(t, client.Options{DataConverter: codec.NewDataConverter(c, nil)})
	w := worker.New(cl, "azblobstore-workflow", worker.Options{})
	w.RegisterWorkflow(EchoWorkflow)
	w.RegisterActivity(EchoActivity)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	in := make([]byte, size)
	rand.NewChaCha8([32]byte{14}).Read(in)
	ctx := testCtx(t, 5*time.Minute)
	run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		TaskQueue:           "azblobstore-workflow",
		WorkflowTaskTimeout: time.Minute, // storing the payload in a workflow task under -race
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

	hist := cl.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := hist.Next()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := codec.ParseReference(first.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0])
	if err != nil {
		t.Fatalf("workflow input in history is not a reference: %v", err)
	}
	objects := listBlobs(t, ctx, srv, store)
	if len(objects) != 1 {
		t.Fatalf("bucket holds %v under the prefix, want 1 object (the payload deduplicated, no parts left)", objects)
	}
	key, err := codec.BlobKey(dev.Namespace, ref.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := store.BlobName(key); objects[0] != want {
		t.Errorf("object %s, but history references %s", objects[0], want)
	}
	if p := blobProps(t, ctx, srv, store, key); *p.ContentLength != ref.Size {
		t.Errorf("blob holds %d bytes, want %d", *p.ContentLength, ref.Size)
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
	if got := hex.EncodeToString(hash.Sum(nil)); got != path.Base(objects[0]) || n != ref.Size {
		t.Errorf("stored object: %d bytes with sha256 %s; want %d bytes, sha256 = its name %s", n, got, ref.Size, objects[0])
	}
	st := store.Stats()
	t.Logf("store stats: %+v; codec stats: %+v", st, c.Stats())
	if st.Puts != 1 || st.Blocks != (ref.Size+8<<20-1)/(8<<20) {
		t.Errorf("store Stats() = %+v, want one Put of staged blocks (the rest deduplicated)", st)
	}
}
