package interceptor_test

import (
	"testing"
	"time"

	sdkinterceptor "go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
)

// TestThreeDayTimer runs a workflow that sleeps three days in the SDK's test environment,
// which skips time: RunWorkflow lasts three days of workflow time, and so does the timer.
func TestThreeDayTimer(t *testing.T) {
	agent := startTracer(t)
	ic, err := interceptor.New(interceptor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []sdkinterceptor.WorkerInterceptor{ic}})
	env.RegisterWorkflow(waitWorkflow)
	env.ExecuteWorkflow(waitWorkflow, 72*time.Hour)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}

	got := spans(agent.WaitFor(t, 10*time.Second, all(has("RunWorkflow", "waitWorkflow", 1), has("Timer", "", 1))))
	if n := len(got.named("Timer")); n != 1 {
		t.Fatalf("Timer spans = %d, want 1", n)
	}
	run, timer := got.named("RunWorkflow")[0], got.named("Timer")[0]
	if want := int64(72 * time.Hour); run.Duration != want || timer.Duration != want {
		t.Errorf("RunWorkflow lasted %s, Timer %s; want 72h both", time.Duration(run.Duration), time.Duration(timer.Duration))
	}
	if timer.ParentID != run.SpanID || timer.TraceID != run.TraceID || run.ParentID != 0 {
		t.Errorf("timer %d/%d under run %d/%d (parent %d)", timer.ParentID, timer.TraceID, run.SpanID, run.TraceID, run.ParentID)
	}
}

// TestWithoutTracer: with no tracer started, the interceptor stays out of the way.
func TestWithoutTracer(t *testing.T) {
	ic, err := interceptor.New(interceptor.Options{SnapshotInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []sdkinterceptor.WorkerInterceptor{ic}})
	env.RegisterWorkflow(userSpanWorkflow)
	env.RegisterActivity(stepActivity)
	env.ExecuteWorkflow(userSpanWorkflow)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
}
