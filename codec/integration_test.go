package codec_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// storeKind is a Store the integration tests run over; s3store adds itself in its own file.
type storeKind struct {
	name string
	new  func(t *testing.T) driver.Store
}

var storeKinds = []storeKind{
	{"filestore", func(t *testing.T) driver.Store {
		s, err := filestore.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

// env is a dev server client and worker whose data converter offloads to one store.
type env struct {
	client    client.Client
	codec     *codec.Codec
	store     driver.Store
	taskQueue string
}

func startEnv(t *testing.T, store driver.Store, opts codec.Options) *env {
	t.Helper()
	srv := testenv.SharedTemporal(t)
	c := newCodec(t, store, opts)
	cl := srv.Client(t, client.Options{DataConverter: codec.NewDataConverter(c, nil)})
	e := &env{client: cl, codec: c, store: store, taskQueue: "codec-" + t.Name()}
	// The path workflows generate up to 50 MiB in workflow code (gen): under -race on a
	// loaded 2-core machine that can take over the SDK's 1 s deadlock detection, which
	// would fail the workflow task for a reason that has nothing to do with the codec.
	startPathsWorker(t, cl, e.taskQueue, worker.Options{DeadlockDetectionTimeout: 30 * time.Second})
	return e
}

// startPathsWorker runs a worker with every workflow and activity of the path tests
// until the test ends.
func startPathsWorker(t *testing.T, cl client.Client, taskQueue string, opts worker.Options) {
	t.Helper()
	w := worker.New(cl, taskQueue, opts)
	for _, wf := range []any{InputWorkflow, ActivityRoundTripWorkflow, LocalActivityWorkflow, SignalWorkflow,
		QueryWorkflow, UpdateWorkflow, ParentWorkflow, ChildWorkflow, ContinueAsNewWorkflow, ResultWorkflow,
		ReadsActivityResultWorkflow} {
		w.RegisterWorkflow(wf)
	}
	w.RegisterActivity(testenv.RotateActivity)
	w.RegisterActivity(GenActivity)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
}

func (e *env) start(t *testing.T, ctx context.Context, wf any, args ...any) client.WorkflowRun {
	t.Helper()
	run, err := e.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		TaskQueue: e.taskQueue,
		// Storing tens of MiB inside a workflow task takes longer than the 10s default
		// under the race detector on two cores.
		WorkflowTaskTimeout: time.Minute,
	}, wf, args...)
	if err != nil {
		t.Fatalf("start %T: %v", wf, err)
	}
	return run
}

// assertHistorySmall checks every payload in the workflow's history (latest run) is under
// the threshold; it returns how many references it saw.
func assertHistorySmall(t *testing.T, cl client.Client, workflowID string, threshold int) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ps, err := testenv.HistoryPayloads(ctx, cl, workflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) == 0 {
		t.Fatal("found no payloads in history")
	}
	refs := 0
	for _, hp := range ps {
		if n := proto.Size(hp.Payload); n > threshold {
			t.Errorf("history event %d (%s) holds a %d-byte payload, over the %d threshold", hp.Event.EventId, hp.Event.EventType, n, threshold)
		}
		if codec.IsReference(hp.Payload) || codec.IsStorageReference(hp.Payload) { // codec or extstore
			refs++
		}
	}
	return refs
}

const (
	mib  = 1 << 20
	seed = 42
)

// TestPaths moves a large payload along each path a payload takes through Temporal, over
// each store; every payload in history stays under the threshold and the data arrives intact.
func TestPaths(t *testing.T) {
	for _, sk := range storeKinds {
		t.Run(sk.name, func(t *testing.T) {
			for _, tc := range pathCases {
				t.Run(tc.name, func(t *testing.T) {
					e := startEnv(t, sk.new(t), codec.Options{})
					ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
					defer cancel()
					wid := tc.run(t, ctx, e)
					if refs := assertHistorySmall(t, e.client, wid, 256<<10); refs == 0 && !tc.notInHistory {
						t.Fatal("no reference payload in history: nothing was offloaded")
					}
				})
			}
		})
	}
}

var pathCases = []struct {
	name string
	run  func(t *testing.T, ctx context.Context, e *env) (workflowID string)
	// notInHistory: the payload travels outside history (a query result); a 5 MiB
	// response only fits Temporal's 4 MiB gRPC limit when it was offloaded.
	notInHistory bool
}{
	{"WorkflowInput20MiB", func(t *testing.T, ctx context.Context, e *env) string {
		data := gen(seed, 20*mib)
		run := e.start(t, ctx, InputWorkflow, data)
		expectResult(t, ctx, run, digest(data))
		return run.GetID()
	}, false},
	{"ActivityInputAndResult50MiB", func(t *testing.T, ctx context.Context, e *env) string {
		run := e.start(t, ctx, ActivityRoundTripWorkflow, uint64(seed), 50*mib)
		expectResult(t, ctx, run, digest(testenv.Rotate(gen(seed, 50*mib))))
		return run.GetID()
	}, false},
	{"LocalActivityResult5MiB", func(t *testing.T, ctx context.Context, e *env) string {
		run := e.start(t, ctx, LocalActivityWorkflow, uint64(seed), 5*mib)
		expectResult(t, ctx, run, digest(gen(seed, 5*mib)))
		return run.GetID()
	}, false},
	{"Signal5MiB", func(t *testing.T, ctx context.Context, e *env) string {
		run := e.start(t, ctx, SignalWorkflow)
		data := gen(seed+1, 5*mib)
		if err := e.client.SignalWorkflow(ctx, run.GetID(), "", "data", data); err != nil {
			t.Fatal(err)
		}
		expectResult(t, ctx, run, digest(data))
		return run.GetID()
	}, false},
	{"QueryResult5MiB", func(t *testing.T, ctx context.Context, e *env) string {
		run := e.start(t, ctx, QueryWorkflow, uint64(seed), 5*mib)
		v, err := e.client.QueryWorkflow(ctx, run.GetID(), "", "data")
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		if err := v.Get(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, gen(seed, 5*mib)) {
			t.Fatalf("query result: %d bytes, digest %s; want the 5 MiB the workflow holds", len(got), digest(got))
		}
		if err := e.client.SignalWorkflow(ctx, run.GetID(), "", "done", nil); err != nil {
			t.Fatal(err)
		}
		if err := run.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
		return run.GetID()
	}, true},
	{"UpdateArgumentAndResult5MiB", func(t *testing.T, ctx context.Context, e *env) string {
		run := e.start(t, ctx, UpdateWorkflow)
		data := gen(seed+2, 5*mib)
		h, err := e.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: run.GetID(), UpdateName: "rotate", Args: []any{data},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		if err := h.Get(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, testenv.Rotate(data)) {
			t.Fatal("update result is not the rotated argument")
		}
		if err := e.client.SignalWorkflow(ctx, run.GetID(), "", "done", nil); err != nil {
			t.Fatal(err)
		}
		if err := run.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
		return run.GetID()
	}, false},
	{"ChildWorkflowInput5MiB", func(t *testing.T, ctx context.Context, e *env) string {
		run := e.start(t, ctx, ParentWorkflow, uint64(seed), 5*mib)
		expectResult(t, ctx, run, digest(gen(seed, 5*mib)))
		// The child's history holds the input: check it too.
		if refs := assertHistorySmall(t, e.client, run.GetID()+"-child", 256<<10); refs == 0 {
			t.Fatal("no reference in the child's history")
		}
		return run.GetID()
	}, false},
	{"ContinueAsNewArgument5MiB", func(t *testing.T, ctx context.Context, e *env) string {
		run := e.start(t, ctx, ContinueAsNewWorkflow, uint64(seed), 5*mib, []byte(nil))
		expectResult(t, ctx, run, digest(gen(seed, 5*mib)))
		return run.GetID()
	}, false},
	{"WorkflowResultReadByClient20MiB", func(t *testing.T, ctx context.Context, e *env) string {
		run := e.start(t, ctx, ResultWorkflow, uint64(seed), 20*mib)
		var got []byte
		if err := run.Get(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, gen(seed, 20*mib)) {
			t.Fatalf("client read %d bytes (digest %s), want the workflow's 20 MiB", len(got), digest(got))
		}
		return run.GetID()
	}, false},
}

func expectResult(t *testing.T, ctx context.Context, run client.WorkflowRun, want string) {
	t.Helper()
	var got string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatalf("workflow %s: %v", run.GetID(), err)
	}
	if got != want {
		t.Fatalf("workflow %s returned digest %s, want %s", run.GetID(), got, want)
	}
}
