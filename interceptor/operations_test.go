package interceptor_test

import (
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"gopkg.in/DataDog/dd-trace-go.v1/ddtrace/tracer"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
)

// TestLocalActivity: a local activity is traced from schedule to result in the
// workflow, and its execution continues the trace through the header.
func TestLocalActivity(t *testing.T) {
	agent, h, ctx := traced(t, interceptor.Options{})
	if err := h.start(ctx, "local-"+h.queue, localActivityWorkflow).Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got := spans(agent.WaitFor(t, 15*time.Second, all(has("RunWorkflow", "", 1), has("StartLocalActivity", "stepActivity", 1), has("RunActivity", "", 1))))
	runWF, start, ra := got.named("RunWorkflow")[0], got.named("StartLocalActivity")[0], got.named("RunActivity")[0]
	if start.ParentID != runWF.SpanID || ra.ParentID != start.SpanID || ra.TraceID != runWF.TraceID {
		t.Errorf("StartLocalActivity parent %d (want %d), RunActivity parent %d (want %d)", start.ParentID, runWF.SpanID, ra.ParentID, start.SpanID)
	}
	if ra.Resource != "stepActivity" || ra.Meta["temporal.ActivityID"] == "" || ra.Metrics["temporal.Attempt"] != 1 {
		t.Errorf("RunActivity tags: meta %v metrics %v", ra.Meta, ra.Metrics)
	}
}

// TestUpdateWithStart: UpdateWithStartWorkflow is a client span whose context reaches the
// new workflow's RunWorkflow and the update's handler.
func TestUpdateWithStart(t *testing.T) {
	agent, h, ctx := traced(t, interceptor.Options{})
	id := "uws-" + h.queue
	op := h.client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: id, TaskQueue: h.queue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	}, handlersWorkflow)
	upd, err := h.client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions:          client.UpdateWorkflowOptions{UpdateName: "set", Args: []any{"v"}, WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := upd.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.client.SignalWorkflow(ctx, id, "", "done", nil); err != nil {
		t.Fatal(err)
	}
	if err := h.client.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got := spans(agent.WaitFor(t, 15*time.Second, all(has("RunWorkflow", "", 1), has("HandleUpdate", "set", 1))))
	uws := got.named("UpdateWithStartWorkflow")
	runWF, hu := got.named("RunWorkflow")[0], got.named("HandleUpdate")[0]
	if len(uws) != 1 || runWF.ParentID != uws[0].SpanID {
		t.Fatalf("UpdateWithStartWorkflow spans %+v; RunWorkflow parent %d", uws, runWF.ParentID)
	}
	if len(hu.Links) != 1 || hu.Links[0].SpanID != uws[0].SpanID {
		t.Errorf("HandleUpdate links %+v, want one to UpdateWithStartWorkflow %d", hu.Links, uws[0].SpanID)
	}
}

// TestSignalExternal: a signal sent by a workflow is a span of the sender, and the
// receiver's HandleSignal links to it.
func TestSignalExternal(t *testing.T) {
	agent, h, ctx := traced(t, interceptor.Options{})
	target := h.start(ctx, "target-"+h.queue, handlersWorkflow)
	if err := h.start(ctx, "sender-"+h.queue, signalerWorkflow, target.GetID()).Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := target.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got := spans(agent.WaitFor(t, 15*time.Second, all(has("SignalExternalWorkflow", "done", 1), has("HandleSignal", "done", 1))))
	sent, recv := got.named("SignalExternalWorkflow")[0], got.named("HandleSignal")[0]
	if len(recv.Links) != 1 || recv.Links[0].SpanID != sent.SpanID || recv.Links[0].TraceID != sent.TraceID {
		t.Errorf("HandleSignal links %+v, want one to SignalExternalWorkflow %d", recv.Links, sent.SpanID)
	}
}

// TestSignalWithStart: the signal of SignalWithStart is handled before the workflow
// function runs, before the start header is read; its span still joins the caller's
// trace under RunWorkflow.
func TestSignalWithStart(t *testing.T) {
	agent, h, ctx := traced(t, interceptor.Options{})
	run, err := h.client.SignalWithStartWorkflow(ctx, "sws-"+h.queue, "done", nil,
		client.StartWorkflowOptions{TaskQueue: h.queue}, handlersWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got := spans(agent.WaitFor(t, 15*time.Second, all(has("RunWorkflow", "", 1), has("HandleSignal", "done", 1))))
	runWF, sig := got.named("RunWorkflow")[0], got.named("HandleSignal")[0]
	start := got.named("SignalWithStartWorkflow")
	if len(start) != 1 || runWF.ParentID != start[0].SpanID {
		t.Fatalf("RunWorkflow parent %d, SignalWithStartWorkflow spans %+v", runWF.ParentID, start)
	}
	if sig.ParentID != runWF.SpanID || sig.TraceID != runWF.TraceID {
		t.Errorf("HandleSignal parent %d trace %d; want RunWorkflow %d trace %d", sig.ParentID, sig.TraceID, runWF.SpanID, runWF.TraceID)
	}
}

// TestQueryClosedWorkflow: a query to a completed workflow replays its whole history,
// completion included, and sends nothing but the query's own spans.
func TestQueryClosedWorkflow(t *testing.T) {
	agent, h, ctx := traced(t, interceptor.Options{})
	run := h.start(ctx, "closed-"+h.queue, handlersWorkflow)
	if err := h.client.SignalWorkflow(ctx, run.GetID(), "", "done", nil); err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	agent.WaitFor(t, 15*time.Second, all(has("RunWorkflow", "", 1), has("HandleSignal", "", 1)))
	agent.Reset()

	if state := queryString(t, ctx, h, run.GetID(), "", "state"); state != "ok" {
		t.Fatalf("query = %q, want %q", state, "ok")
	}
	got := spans(agent.WaitFor(t, 15*time.Second, all(has("QueryWorkflow", "state", 1), has("HandleQuery", "state", 1))))
	tracer.Flush()
	got = spans(agent.Spans())
	for _, s := range got {
		if s.Name != "temporal.QueryWorkflow" && s.Name != "temporal.HandleQuery" {
			t.Errorf("query replay sent %s %q", s.Name, s.Resource)
		}
	}
}
