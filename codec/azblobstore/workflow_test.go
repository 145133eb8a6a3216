package azblobstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/azblobstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/drivertest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestWorkflow sends 40 MiB through a real workflow on a Temporal dev server with
// azblobstore on Azurite behind the codec (drivertest.Workflow): the one blob under the
// prefix was committed from 8 MiB blocks and holds the payload's bytes.
func TestWorkflow(t *testing.T) {
	srv := server(t)
	store := newStore(t, srv, "", azblobstore.Options{PartSize: 8 << 20})
	ctx := testenv.Context(t, 5*time.Minute)
	ref, key, _ := drivertest.Workflow(t, ctx, drivertest.WorkflowRun{
		Dev:       testenv.Temporal(t, testenv.DevServerOptions{}),
		Store:     store,
		Name:      store.BlobName,
		List:      func(t testing.TB, ctx context.Context) []string { return listBlobs(t, ctx, srv, store) },
		TaskQueue: "azblobstore-workflow",
		Size:      40 << 20,
		Seed:      14,
	})
	if p := blobProps(t, ctx, srv, store, key); *p.ContentLength != ref.Size {
		t.Errorf("blob holds %d bytes, want %d", *p.ContentLength, ref.Size)
	}
	st := store.Stats()
	t.Logf("store stats: %+v", st)
	if st.Puts != 1 || st.Blocks != (ref.Size+8<<20-1)/(8<<20) {
		t.Errorf("store Stats() = %+v, want one Put of staged blocks (the rest deduplicated)", st)
	}
}
