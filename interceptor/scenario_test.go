package interceptor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"gopkg.in/DataDog/dd-trace-go.v1/ddtrace/tracer"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/ddagent"
)

// TestScenario is the acceptance scenario: a workflow with two activities, a 3 s timer,
// a child workflow, an incoming signal, an update, a query and one continue-as-new, run
// by workers with no sticky cache (every workflow task replays the whole history), two
// of which are stopped and replaced during the run.
func TestScenario(t *testing.T) {
	worker.SetStickyWorkflowCacheSize(0)
	t.Cleanup(func() { worker.SetStickyWorkflowCacheSize(10000) }) // the SDK's default

	agent := startTracer(t)
	h := newHarness(t, interceptor.Options{})
	ctx := testContext(t, 2*time.Minute)

	// The test's own root span: every client span is its child.
	root, ctx := tracer.StartSpanFromContext(ctx, "test.scenario")
	stopWorker := h.worker(worker.Options{})

	run := h.start(ctx, "scenario-"+h.queue, scenarioWorkflow, 0)
	firstRunID := run.GetRunID()

	// Progress is visible while the workflow runs: the first activity's span arrives while
	// the workflow waits for the signal.
	agent.WaitFor(t, 30*time.Second, has("StartActivity", "stepActivity", 1))
	if st := describe(t, h, run.GetID(), firstRunID).WorkflowExecutionInfo.Status; st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("workflow status after the first activity span arrived = %v, want running", st)
	}

	// A query (answered by replaying the whole history: there is no sticky cache) and an
	// update, both before the first replacement, once the workflow task that exported the
	// span is done. Nothing that must reach a worker promptly is sent right after a worker
	// stops: the SDK cancels a stopping worker's long polls without waiting for the
	// server, and until the server (1.29) notices, matching can hand a query to such a
	// poll, then fails the query with the poll's "context canceled" (it fetches the
	// workflow's state with the dead poll's context) or loses it (DeadlineExceeded).
	// Newer servers and SDKs close that race (temporalio/temporal#9203,
	// temporalio/sdk-go#2199).
	waitNoWorkflowTask(t, h, run.GetID(), firstRunID)
	if progress := queryString(t, ctx, h, run.GetID(), firstRunID, "progress"); progress != "waiting" {
		t.Fatalf("query = %q, want %q", progress, "waiting")
	}
	upd, err := h.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: run.GetID(), RunID: firstRunID, UpdateName: "bump", Args: []any{2},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := upd.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}

	// Replacement 1, while the workflow waits for the signal. The span is exported while
	// the workflow task that saw the result is still running; stopping its worker then
	// could lose the task, which would run again only after its 10 s timeout.
	waitNoWorkflowTask(t, h, run.GetID(), firstRunID)
	stopWorker()
	stopWorker = h.worker(worker.Options{})

	// The signal is durable: its workflow task reaches the new worker even if the old
	// worker's last poll takes it first (matching retries it, or it times out and runs again).
	if err := h.client.SignalWorkflow(ctx, run.GetID(), firstRunID, "go", nil); err != nil {
		t.Fatal(err)
	}

	// Replacement 2, during the 3 s timer: the HandleSignal span arrives from the task
	// that handled the signal and started the timer.
	agent.WaitFor(t, 30*time.Second, has("HandleSignal", "go", 1))
	waitNoWorkflowTask(t, h, run.GetID(), firstRunID)
	stopWorker()
	h.worker(worker.Options{})

	var result string
	if err := h.client.GetWorkflow(ctx, run.GetID(), "").Get(ctx, &result); err != nil || result != "final" {
		t.Fatalf("workflow result = %q, %v", result, err)
	}
	desc2 := describe(t, h, run.GetID(), "")
	secondRunID := desc2.WorkflowExecutionInfo.Execution.RunId
	if secondRunID == firstRunID {
		t.Fatal("workflow did not continue as new")
	}
	root.Finish()

	// Wait for everything: both runs, the child run and the test's root span.
	got := spans(agent.WaitFor(t, 30*time.Second, all(has("RunWorkflow", "", 3), func(ss []ddagent.Span) bool {
		for _, s := range ss {
			if s.Name == "test.scenario" {
				return true
			}
		}
		return false
	})))
	// Let stragglers (a duplicate would be one) arrive before judging exactly-once.
	tracer.Flush()
	got = spans(agent.Spans())
	if t.Failed() {
		return
	}
	checkExactlyOnce(t, got)
	checkNoOrphans(t, got)

	byID := got.byID()
	run1 := got.named("RunWorkflow").withTag("temporal.RunID", firstRunID)
	run2 := got.named("RunWorkflow").withTag("temporal.RunID", secondRunID)
	if len(run1) != 1 || len(run2) != 1 {
		t.Fatalf("RunWorkflow spans for run 1, run 2 = %d, %d; want 1, 1\n%s", len(run1), len(run2), ddagent.Format(got))
	}
	r1, r2 := run1[0], run2[0]

	// RunWorkflow starts at the workflow's start time and is the child of StartWorkflow.
	desc1 := describe(t, h, run.GetID(), firstRunID)
	if want := desc1.WorkflowExecutionInfo.StartTime.AsTime().UnixNano(); r1.Start != want {
		t.Errorf("RunWorkflow start = %d, want WorkflowStartTime %d", r1.Start, want)
	}
	if want := desc2.WorkflowExecutionInfo.StartTime.AsTime().UnixNano(); r2.Start != want {
		t.Errorf("continued RunWorkflow start = %d, want WorkflowStartTime %d", r2.Start, want)
	}
	if p := byID[r1.ParentID]; p.Name != "temporal.StartWorkflow" || r1.TraceID != p.TraceID {
		t.Errorf("RunWorkflow parent = %+v, want the StartWorkflow span in its trace", p)
	}
	if r1.SpanID != interceptor.SpanIDFor(h.ns, firstRunID, 0) {
		t.Errorf("RunWorkflow span id = %d, want the deterministic id", r1.SpanID)
	}
	if r1.Meta["temporal.ContinuedAsNew"] != "true" || r1.Error != 0 {
		t.Errorf("RunWorkflow of the first run: ContinuedAsNew=%q error=%d", r1.Meta["temporal.ContinuedAsNew"], r1.Error)
	}

	// Continue-as-new: a new trace, rooted at the next RunWorkflow, linked to the previous.
	if r2.TraceID == r1.TraceID || r2.ParentID != 0 {
		t.Errorf("continued run: trace %d parent %d; want a new trace (not %d) and no parent", r2.TraceID, r2.ParentID, r1.TraceID)
	}
	if len(r2.Links) != 1 || r2.Links[0].SpanID != r1.SpanID || r2.Links[0].TraceID != r1.TraceID {
		t.Errorf("continued run links = %+v, want one to span %d trace %d", r2.Links, r1.SpanID, r1.TraceID)
	}

	// Workflow spans of the first run: children of RunWorkflow, ids 1..n of the sequence.
	checkSequence(t, got, h.ns, firstRunID, r1)

	// The query's span has a random id, outside the sequence, in the client's trace.
	queries := got.named("HandleQuery")
	if len(queries) != 1 {
		t.Fatalf("HandleQuery spans = %d, want 1", len(queries))
	}
	q := queries[0]
	for seq := uint64(0); seq < 1000; seq++ {
		if q.SpanID == interceptor.SpanIDFor(h.ns, firstRunID, seq) {
			t.Errorf("HandleQuery took deterministic id %d", seq)
		}
	}
	if p := byID[q.ParentID]; p.Name != "temporal.QueryWorkflow" {
		t.Errorf("HandleQuery parent = %q, want temporal.QueryWorkflow", p.Name)
	}

	// The update and the signal belong to the workflow's trace and link to their senders.
	for _, op := range []string{"HandleSignal", "HandleUpdate", "ValidateUpdate"} {
		ss := got.named(op)
		if len(ss) != 1 {
			t.Errorf("%s spans = %d, want 1", op, len(ss))
			continue
		}
		s := ss[0]
		if s.ParentID != r1.SpanID || len(s.Links) != 1 {
			t.Errorf("%s: parent %d links %+v; want parent RunWorkflow %d and one link", op, s.ParentID, s.Links, r1.SpanID)
			continue
		}
		if sender := byID[s.Links[0].SpanID]; sender.Name != "temporal.SignalWorkflow" && sender.Name != "temporal.UpdateWorkflow" {
			t.Errorf("%s links to %q", op, sender.Name)
		}
	}

	// The timer lasted its 3 s of workflow time.
	timers := got.named("Timer")
	if len(timers) != 1 || timers[0].Duration < int64(3*time.Second) {
		t.Errorf("Timer spans = %+v, want one of at least 3s", timers)
	}

	// The child workflow's RunWorkflow continues the trace under StartChildWorkflow.
	child := got.named("RunWorkflow").withResource("childWorkflow")
	if len(child) != 1 {
		t.Fatalf("child RunWorkflow spans = %d", len(child))
	}
	if p := byID[child[0].ParentID]; p.Name != "temporal.StartChildWorkflow" || child[0].TraceID != r1.TraceID {
		t.Errorf("child RunWorkflow parent %q trace %d; want StartChildWorkflow in trace %d", p.Name, child[0].TraceID, r1.TraceID)
	}

	// Each activity attempt ran under its StartActivity span.
	for _, ra := range got.named("RunActivity") {
		if p := byID[ra.ParentID]; p.Name != "temporal.StartActivity" || p.TraceID != ra.TraceID {
			t.Errorf("RunActivity %q parent = %q", ra.Resource, p.Name)
		}
	}
	if n := len(got.named("RunActivity")); n != 4 {
		t.Errorf("RunActivity spans = %d, want 4", n)
	}
	t.Logf("%d spans, %d payloads", len(got), agent.Payloads())
}

func describe(t testing.TB, h *harness, id, runID string) *workflowservice.DescribeWorkflowExecutionResponse {
	t.Helper()
	d, err := h.client.DescribeWorkflowExecution(context.Background(), id, runID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// waitNoWorkflowTask waits until the run has no workflow task scheduled or running: the
// workflow is blocked on something outside it (a signal, a timer), and a worker can be
// replaced without losing work in flight.
func waitNoWorkflowTask(t testing.TB, h *harness, id, runID string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := describe(t, h, id, runID)
		if d.PendingWorkflowTask == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("workflow %s still has a workflow task after 30s: %v", id, d.PendingWorkflowTask)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkExactlyOnce fails for every span id that arrived more than once.
func checkExactlyOnce(t *testing.T, got spans) {
	t.Helper()
	seen := map[uint64]int{}
	for _, s := range got {
		seen[s.SpanID]++
	}
	for id, n := range seen {
		if n != 1 {
			var dup spans
			for _, s := range got {
				if s.SpanID == id {
					dup = append(dup, s)
				}
			}
			t.Errorf("span %d arrived %d times:\n%s", id, n, ddagent.Format(dup))
		}
	}
}

// checkNoOrphans fails for every span whose parent did not arrive.
func checkNoOrphans(t *testing.T, got spans) {
	t.Helper()
	ids := got.byID()
	for _, s := range got {
		if s.ParentID != 0 {
			if _, ok := ids[s.ParentID]; !ok {
				t.Errorf("orphan: %s %q (span %d) has parent %d, which never arrived", s.Name, s.Resource, s.SpanID, s.ParentID)
			}
		}
	}
}

// checkSequence checks that the deterministic spans of a run have the ids 1..n of its
// sequence, with no gaps.
func checkSequence(t *testing.T, got spans, ns, runID string, run ddagent.Span) {
	t.Helper()
	want := map[uint64]uint64{}
	for seq := uint64(1); seq <= 100; seq++ {
		want[interceptor.SpanIDFor(ns, runID, seq)] = seq
	}
	var seqs []uint64
	for _, s := range got.underRun(run) {
		switch s.Name {
		case "temporal.RunWorkflow", "temporal.RunActivity", "temporal.HandleQuery", "temporal.ValidateUpdate",
			"temporal.StartWorkflow", "temporal.SignalWorkflow", "temporal.QueryWorkflow", "temporal.UpdateWorkflow":
			continue // not deterministic, or the client's
		}
		seq, ok := want[s.SpanID]
		if !ok {
			t.Errorf("%s %q: span id %d is not in the run's sequence", s.Name, s.Resource, s.SpanID)
			continue
		}
		if s.TraceID != run.TraceID {
			t.Errorf("%s %q: trace %d, want the run's %d", s.Name, s.Resource, s.TraceID, run.TraceID)
		}
		seqs = append(seqs, seq)
	}
	seen := map[uint64]bool{}
	for _, s := range seqs {
		seen[s] = true
	}
	for i := uint64(1); i <= uint64(len(seqs)); i++ {
		if !seen[i] {
			t.Errorf("sequence number %d missing among %v", i, seqs)
		}
	}
	t.Logf("run %s: deterministic spans %s", runID, fmt.Sprint(seqs))
}
