package codec_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestStoreOutageFailsWorkflowTaskNotWorkflow: while the worker's store cannot be read,
// decoding a reference inside workflow code — the workflow's input, an activity result, a
// signal — fails the workflow task (Temporal retries it) instead of handing workflow code
// an error; once the store is back the workflow completes with the right data. It holds
// under both panic policies: the codec's failure is the SDK's WorkflowTaskFailureError,
// which FailWorkflow does not turn into a failed workflow as it would a plain panic.
func TestStoreOutageFailsWorkflowTaskNotWorkflow(t *testing.T) {
	for _, policy := range []struct {
		name string
		p    worker.WorkflowPanicPolicy
	}{{"BlockWorkflow", worker.BlockWorkflow}, {"FailWorkflow", worker.FailWorkflow}} {
		t.Run(policy.name, func(t *testing.T) { storeOutage(t, policy.p) })
	}
}

func storeOutage(t *testing.T, policy worker.WorkflowPanicPolicy) {
	srv := testenv.SharedTemporal(t)
	for _, tc := range []struct {
		name string
		run  func(ctx context.Context, cl client.Client, tq string) (client.WorkflowRun, string, error)
	}{
		{"WorkflowInput", func(ctx context.Context, cl client.Client, tq string) (client.WorkflowRun, string, error) {
			data := gen(seed+10, 3*mib)
			run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: tq}, InputWorkflow, data)
			return run, digest(data), err
		}},
		{"ActivityResult", func(ctx context.Context, cl client.Client, tq string) (client.WorkflowRun, string, error) {
			run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: tq}, ReadsActivityResultWorkflow, uint64(seed), 3*mib)
			return run, digest(gen(seed, 3*mib)), err
		}},
		{"Signal", func(ctx context.Context, cl client.Client, tq string) (client.WorkflowRun, string, error) {
			data := gen(seed+11, 3*mib)
			run, err := cl.SignalWithStartWorkflow(ctx, "outage-signal-"+tq, "data", data, client.StartWorkflowOptions{TaskQueue: tq}, SignalWorkflow)
			return run, digest(data), err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := filestore.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			// The client and the worker are separate processes in real life: separate
			// codecs, and the worker has no cache, so its reads reach the store.
			clientCodec := newCodec(t, fs, codec.Options{})
			flaky := &faultStore{Store: fs}
			flaky.failReads.Store(true)
			workerCodec := newCodec(t, retrying(flaky, nil), codec.Options{CacheBytes: -1, Timeout: 500 * time.Millisecond})

			cl := srv.Client(t, client.Options{DataConverter: codec.NewDataConverter(clientCodec, nil)})
			wcl := srv.Client(t, client.Options{DataConverter: codec.NewDataConverter(workerCodec, nil)})
			tq := fmt.Sprintf("codec-outage-%s-%d", tc.name, policy)
			w := worker.New(wcl, tq, worker.Options{WorkflowPanicPolicy: policy})
			w.RegisterWorkflow(InputWorkflow)
			w.RegisterWorkflow(ReadsActivityResultWorkflow)
			w.RegisterWorkflow(SignalWorkflow)
			w.RegisterActivity(GenActivity)
			if err := w.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(w.Stop)

			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			// Reads fail for the next few seconds; writes (the client's, the activity's)
			// succeed, and the workflow tasks that must read fail until the outage ends.
			flaky.failFor(4 * time.Second)
			run, want, err := tc.run(ctx, cl, tq)
			if err != nil {
				t.Fatal(err)
			}
			expectResult(t, ctx, run, want)

			failed := 0
			iter := cl.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for iter.HasNext() {
				ev, err := iter.Next()
				if err != nil {
					t.Fatal(err)
				}
				if ev.EventType == enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED {
					failed++
				}
			}
			if failed == 0 {
				t.Fatal("no WorkflowTaskFailed event: the outage never reached the workflow task")
			}
			if flaky.count("get") < 2 {
				t.Fatalf("worker read the store %d times, want failed reads and a successful one", flaky.count("get"))
			}
			t.Logf("workflow completed after %d failed workflow task(s)", failed)
		})
	}
}

// TestClientReadsResultWhileStoreDown: a client (plain context) gets a wrapped error,
// not a panic, when the store is down; and a tampered result blob is ErrCorrupt.
func TestClientReadsResultWhileStoreDown(t *testing.T) {
	srv := testenv.SharedTemporal(t)
	fs, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, fs, codec.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := e.start(t, ctx, ResultWorkflow, uint64(seed), 3*mib)
	if err := run.Get(ctx, nil); err != nil { // completion only; nothing decoded
		t.Fatal(err)
	}

	down := &faultStore{Store: fs}
	down.failFor(time.Hour)
	reader := srv.Client(t, client.Options{DataConverter: codec.NewDataConverter(
		newCodec(t, retrying(down, nil), codec.Options{CacheBytes: -1, Timeout: 300 * time.Millisecond}), nil)})
	var got []byte
	err = reader.GetWorkflow(ctx, run.GetID(), run.GetRunID()).Get(ctx, &got)
	if !errors.Is(err, errInjected) {
		t.Fatalf("reading a result while the store is down: %v, want the store's error", err)
	}
	var se *codec.StoreError
	if !errors.As(err, &se) || se.Op != "get" || len(se.Digest) != 64 {
		t.Fatalf("error %v is not a StoreError naming the operation and digest", err)
	}

	// Tamper with every stored blob: the reader must get ErrCorrupt, never the bytes.
	tamperAll(t, fs.Dir())
	fresh := srv.Client(t, client.Options{DataConverter: codec.NewDataConverter(newCodec(t, fs, codec.Options{CacheBytes: -1}), nil)})
	got = nil
	err = fresh.GetWorkflow(ctx, run.GetID(), run.GetRunID()).Get(ctx, &got)
	if !errors.Is(err, driver.ErrCorrupt) {
		t.Fatalf("reading a tampered result: %v, want ErrCorrupt", err)
	}
	if got != nil {
		t.Fatal("tampered bytes reached the caller")
	}
}

// tamperAll flips one byte in the middle of every blob under dir.
func tamperAll(t *testing.T, dir string) {
	t.Helper()
	n := 0
	err := walkFiles(dir, func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil || len(b) == 0 {
			return err
		}
		b[len(b)/2] ^= 0xff
		n++
		return os.WriteFile(path, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no blob to tamper with")
	}
}
