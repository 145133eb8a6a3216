package gcsstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/gcsstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/drivertest"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestWorkflow sends 40 MiB through a real workflow on a Temporal dev server with
// gcsstore on fake-gcs-server behind the codec (drivertest.Workflow): the one object
// under the prefix was composed from 8 MiB parts (none left behind) and carries a
// customTime. (The 200 MiB round trip is TestMemoryBound200MiB, without Temporal, to
// keep CI short.)
func TestWorkflow(t *testing.T) {
	srv := server(t)
	store := newStore(t, srv, "", gcsstore.Options{PartSize: 8 << 20})
	ctx := testenv.Context(t, 5*time.Minute)
	ref, key, _ := drivertest.Workflow(t, ctx, drivertest.WorkflowRun{
		Dev:       testenv.Temporal(t, testenv.DevServerOptions{}),
		Store:     store,
		Name:      store.ObjectName,
		List:      func(t testing.TB, ctx context.Context) []string { return listObjects(t, ctx, srv, store) },
		TaskQueue: "gcsstore-workflow",
		Size:      40 << 20,
		Seed:      14,
	})
	if a := objectAttrs(t, ctx, srv, store, key); a.CustomTime.IsZero() || a.Size != ref.Size {
		t.Errorf("object attrs: %d bytes, customTime %v; want %d bytes and a customTime", a.Size, a.CustomTime, ref.Size)
	}
	st := store.Stats()
	t.Logf("store stats: %+v", st)
	if st.Puts != 1 || st.Composes != 1 || st.Parts != (ref.Size+8<<20-1)/(8<<20) {
		t.Errorf("store Stats() = %+v, want one composed Put (the rest deduplicated)", st)
	}
}
