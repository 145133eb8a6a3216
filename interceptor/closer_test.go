package interceptor_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/ddagent"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

const closeLag = 2 * time.Second

// TestCloser: with two closers running at once (Lag 2 s) and snapshots every second,
//   - a run terminated while its activity runs, and one that hits its run timeout, each
//     get exactly one final RunWorkflow span within the lag, after their snapshots: same
//     ids, the real start and close, status and error, marked long-running;
//   - a completed run gets no span from the closer;
//   - a reset closes the old run (terminated, with the reset's reason) and leaves the new
//     one open.
func TestCloser(t *testing.T) {
	agent := startTracer(t)
	h := newHarness(t, interceptor.Options{SnapshotInterval: time.Second})
	h.worker(worker.Options{})
	ctx := testContext(t, 2*time.Minute)
	runClosers(t, h, 2)

	terminated := h.start(ctx, "terminated-"+h.queue, blockingWorkflow, time.Minute)
	timedOut, err := h.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "timeout-" + h.queue, TaskQueue: h.queue, WorkflowRunTimeout: 4 * time.Second,
	}, waitWorkflow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	completed := h.start(ctx, "completed-"+h.queue, waitWorkflow, 1500*time.Millisecond)
	reset := h.start(ctx, "reset-"+h.queue, handlersWorkflow)
	arrivals := map[string]func() (time.Time, error){
		terminated.GetRunID(): watchFinal(agent, terminated.GetRunID()),
		timedOut.GetRunID():   watchFinal(agent, timedOut.GetRunID()),
	}

	// Terminate once the worker has sent snapshots of the run.
	agent.WaitFor(t, 30*time.Second, func(ss []ddagent.Span) bool { return len(copiesOf(ss, terminated.GetRunID())) >= 2 })
	if err := h.client.TerminateWorkflow(ctx, terminated.GetID(), terminated.GetRunID(), "operator stop"); err != nil {
		t.Fatal(err)
	}
	newRunID := resetToFirstTask(t, ctx, h, reset.GetID(), reset.GetRunID(), "test reset")
	if err := completed.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}

	closedRuns := []client.WorkflowRun{terminated, timedOut}
	for _, run := range closedRuns {
		waitClosed(t, h, run.GetID(), run.GetRunID())
		closeTime := describe(t, h, run.GetID(), run.GetRunID()).WorkflowExecutionInfo.CloseTime.AsTime()
		arrived, err := arrivals[run.GetRunID()]()
		if err != nil {
			t.Fatalf("%s: %v", run.GetID(), err)
		}
		if late := arrived.Sub(closeTime); late > closeLag {
			t.Errorf("%s: final span arrived %s after the close, lag is %s", run.GetID(), late, closeLag)
		} else {
			t.Logf("%s: final span arrived %s after the close (lag %s)", run.GetID(), late, closeLag)
		}
	}
	got := waitClosersPassed(t, ctx, h, agent)

	for _, tc := range []struct {
		run            client.WorkflowRun
		status, reason string
	}{
		{terminated, "terminated", "operator stop"},
		{timedOut, "timed_out", "run timeout 4s"},
	} {
		checkClosed(t, h, got, tc.run.GetID(), tc.run.GetRunID(), tc.status, tc.reason, true)
	}
	checkClosed(t, h, got, reset.GetID(), reset.GetRunID(), "terminated", "test reset", false)

	// The completed run and the run the reset made: the worker's span alone, and none.
	done := copiesOf(got, completed.GetRunID())
	if f := finals(done); len(f) != 1 || f[0].Meta["temporal.WorkflowStatus"] != "" || f[0].Error != 0 {
		t.Errorf("completed run: want the worker's final span alone, got\n%s", ddagent.Format(done))
	}
	if f := finals(copiesOf(got, newRunID)); len(f) != 0 {
		t.Errorf("the reset's new run got a final span while open:\n%s", ddagent.Format(f))
	}
	if st := describe(t, h, reset.GetID(), newRunID).WorkflowExecutionInfo.Status; st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("the reset's new run is %v, want running", st)
	}
	checkExactlyOnce(t, finals(got.named("RunWorkflow")))

	// The two closers shared one closer workflow.
	resp, err := h.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: "WorkflowId = 'closer-" + h.queue + "'",
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.GetExecutions()); n != 1 {
		t.Errorf("closer workflow runs = %d, want 1", n)
	}
}

// runClosers starts n closers at once for the harness's task queue, and waits until the
// closer activity runs. The returned functions stop them; the test's end stops the rest.
func runClosers(t *testing.T, h *harness, n int) (stops []func()) {
	t.Helper()
	opts := closerOptions(t, h)
	for range n {
		cl, err := h.ic.NewCloser(h.client, opts)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := cl.Run(ctx); err != nil {
				t.Errorf("closer: %v", err)
			}
		}()
		stop := func() { cancel(); <-done }
		t.Cleanup(stop)
		stops = append(stops, stop)
	}
	t.Cleanup(func() {
		_ = h.client.TerminateWorkflow(context.Background(), opts.WorkflowID, "", "test over")
	})
	// The lag is a promise of a running closer: wait until its activity scans.
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := h.client.DescribeWorkflowExecution(context.Background(), opts.WorkflowID, "")
		if err == nil && len(d.PendingActivities) > 0 && d.PendingActivities[0].State == enumspb.PENDING_ACTIVITY_STATE_STARTED {
			return stops
		}
		if time.Now().After(deadline) {
			t.Fatalf("closer activity not running after 30s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func closerOptions(t *testing.T, h *harness) interceptor.CloserOptions {
	return interceptor.CloserOptions{
		Namespace:  h.ns,
		Lag:        closeLag,
		Query:      "TaskQueue = '" + h.queue + "'",
		TaskQueue:  h.queue + "-closer",
		WorkflowID: "closer-" + h.queue,
		Logger:     testenv.Logger(t),
	}
}

// TestCloserHandover: closers stop and start while runs are terminated; the closer
// activity moves between them with its cursor, and every run still gets one final span.
func TestCloserHandover(t *testing.T) {
	agent := startTracer(t)
	h := newHarness(t, interceptor.Options{SnapshotInterval: interceptor.NoSnapshots})
	h.worker(worker.Options{})
	ctx := testContext(t, 2*time.Minute)
	stops := runClosers(t, h, 2)

	var runIDs []string
	terminate := func(name string) {
		run := h.start(ctx, name+h.queue, waitWorkflow, time.Hour)
		if err := h.client.TerminateWorkflow(ctx, run.GetID(), run.GetRunID(), name); err != nil {
			t.Fatal(err)
		}
		runIDs = append(runIDs, run.GetRunID())
	}
	terminate("a-")
	terminate("b-")
	stops[0]()
	terminate("c-")
	stops = append(stops, runClosers(t, h, 1)...)
	terminate("d-")
	stops[1]()
	terminate("e-")
	got := waitClosersPassed(t, ctx, h, agent)
	for _, id := range runIDs {
		if n := len(finals(copiesOf(got, id))); n != 1 {
			t.Errorf("run %s: %d final spans, want 1", id, n)
		}
	}
	checkExactlyOnce(t, finals(got.named("RunWorkflow")))
}

// waitClosersPassed terminates two sentinel runs one after the other and waits for the
// closer's span of each. Closers scan in close-time order, one scan at a time, so every
// run closed before the first sentinel has been handled, and any second span for one
// would have arrived, by the time the second sentinel's span does. It returns all spans.
func waitClosersPassed(t *testing.T, ctx context.Context, h *harness, agent *ddagent.Agent) spans {
	t.Helper()
	for _, name := range []string{"sentinel1-", "sentinel2-"} {
		run := h.start(ctx, name+h.queue, waitWorkflow, time.Hour)
		if err := h.client.TerminateWorkflow(ctx, run.GetID(), run.GetRunID(), "sentinel"); err != nil {
			t.Fatal(err)
		}
		agent.WaitFor(t, 30*time.Second, func(ss []ddagent.Span) bool { return len(finals(copiesOf(ss, run.GetRunID()))) > 0 })
	}
	return spans(agent.Spans())
}

// checkClosed checks what the closer sent for a run: one final RunWorkflow span, last,
// with the worker's ids, the run's start and close, status and error. withSnapshots: the
// worker sent partial copies before it, and the final span is marked long-running.
func checkClosed(t *testing.T, h *harness, got spans, id, runID, status, reason string, withSnapshots bool) {
	t.Helper()
	copies := copiesOf(got, runID)
	if len(copies) == 0 {
		t.Errorf("%s: no RunWorkflow span", id)
		return
	}
	versions := checkSnapshots(t, copies)
	final := copies[len(copies)-1]
	info := describe(t, h, id, runID).WorkflowExecutionInfo
	if final.SpanID != interceptor.SpanIDFor(h.ns, runID, 0) || final.Start != info.StartTime.AsTime().UnixNano() {
		t.Errorf("%s: final span id %d start %d, want the run's id and its start %s", id, final.SpanID, final.Start, info.StartTime.AsTime())
	}
	end := time.Unix(0, final.Start+final.Duration)
	if d := end.Sub(info.CloseTime.AsTime()).Abs(); d > time.Second {
		t.Errorf("%s: final span ends %s, %s from the close %s", id, end, d, info.CloseTime.AsTime())
	}
	if final.Meta["temporal.WorkflowStatus"] != status || final.Error != 1 || !strings.Contains(final.Meta["error.message"], reason) {
		t.Errorf("%s: final span status %q error %d %q; want %q and an error with %q", id, final.Meta["temporal.WorkflowStatus"],
			final.Error, final.Meta["error.message"], status, reason)
	}
	if withSnapshots {
		if len(versions) == 0 || final.Metrics["_dd.was_long_running"] != 1 {
			t.Errorf("%s: partial versions %v, final metrics %v; want snapshots and _dd.was_long_running=1", id, versions, final.Metrics)
		}
		for _, v := range versions {
			if v >= float64(time.Duration(final.Duration).Milliseconds()) {
				t.Errorf("%s: partial version %v not below the final span's %d ms", id, v, time.Duration(final.Duration).Milliseconds())
			}
		}
	}
}

// watchFinal starts waiting for the final RunWorkflow span of a run; the returned
// function returns when it arrived at the agent.
func watchFinal(agent *ddagent.Agent, runID string) func() (time.Time, error) {
	type arrival struct {
		at  time.Time
		err error
	}
	ch := make(chan arrival, 1)
	go func() {
		_, err := agent.Wait(time.Minute, func(ss []ddagent.Span) bool { return len(finals(copiesOf(ss, runID))) > 0 })
		ch <- arrival{time.Now(), err}
	}()
	return func() (time.Time, error) {
		a := <-ch
		return a.at, a.err
	}
}

// copiesOf returns the RunWorkflow spans of a run, partial and final, in arrival order.
func copiesOf(ss []ddagent.Span, runID string) spans {
	return spans(ss).named("RunWorkflow").withTag("temporal.RunID", runID)
}

// waitClosed waits until the run is closed.
func waitClosed(t *testing.T, h *harness, id, runID string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for describe(t, h, id, runID).WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		if time.Now().After(deadline) {
			t.Fatalf("%s still running after 30s", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// resetToFirstTask resets a run to its first completed workflow task and returns the
// new run's id.
func resetToFirstTask(t *testing.T, ctx context.Context, h *harness, id, runID, reason string) string {
	t.Helper()
	waitNoWorkflowTask(t, h, id, runID)
	var taskDone int64
	it := h.client.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() && taskDone == 0 {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			taskDone = ev.GetEventId()
		}
	}
	resp, err := h.client.ResetWorkflowExecution(ctx, &workflowservice.ResetWorkflowExecutionRequest{
		Namespace:                 h.ns,
		WorkflowExecution:         &commonpb.WorkflowExecution{WorkflowId: id, RunId: runID},
		Reason:                    reason,
		WorkflowTaskFinishEventId: taskDone,
		RequestId:                 uuid.NewString(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetRunId()
}

// TestCloserOptions: bad closer options are refused, naming what is wrong.
func TestCloserOptions(t *testing.T) {
	ic, err := interceptor.New(interceptor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var c client.Client = fakeClient{}
	for _, tt := range []struct {
		name string
		c    client.Client
		opts interceptor.CloserOptions
		want string
	}{
		{"zero", c, interceptor.CloserOptions{}, ""},
		{"nil client", nil, interceptor.CloserOptions{}, "nil client"},
		{"short lag", c, interceptor.CloserOptions{Lag: time.Millisecond}, "Lag 1ms"},
		{"negative batch", c, interceptor.CloserOptions{BatchSize: -1}, "BatchSize -1"},
		{"ordered query", c, interceptor.CloserOptions{Query: "TaskQueue = 'q' ORDER BY StartTime"}, "ordered"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ic.NewCloser(tt.c, tt.opts)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (!errors.Is(err, interceptor.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error = %v, want ErrInvalidOptions naming %q", err, tt.want)
			}
		})
	}
}

// fakeClient stands in for a client where none is called.
type fakeClient struct{ client.Client }

// TestCloserBadQuery: a query visibility refuses stops Run at once, naming the query.
func TestCloserBadQuery(t *testing.T) {
	h := newHarness(t, interceptor.Options{})
	opts := closerOptions(t, h)
	opts.Query = "NoSuchAttribute = 'x'"
	cl, err := h.ic.NewCloser(h.client, opts)
	if err != nil {
		t.Fatal(err)
	}
	err = cl.Run(testContext(t, 30*time.Second))
	if !errors.Is(err, interceptor.ErrInvalidOptions) || !strings.Contains(err.Error(), "NoSuchAttribute") {
		t.Fatalf("Run = %v, want ErrInvalidOptions naming the query", err)
	}
}
