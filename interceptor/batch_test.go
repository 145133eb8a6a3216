package interceptor_test

import (
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/ddagent"
)

// TestWorkflowSpansGrouped: the StartActivity spans of a workflow, waiting for their
// group, leave with the workflow's RunWorkflow span as one chunk (one of them the
// chunk's top-level span, the others measured, so Datadog's statistics count them all),
// and Flush sends those of a workflow that is still running.
func TestWorkflowSpansGrouped(t *testing.T) {
	interceptor.SetBatchWindow(t, time.Hour) // only RunWorkflow and Flush send them
	t.Run("finished", func(t *testing.T) {
		agent, h, ctx := traced(t, interceptor.Options{})
		if err := h.start(ctx, "grouped-"+h.queue, activitiesWorkflow, 5).Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
		got := spans(agent.WaitFor(t, 15*time.Second, all(has("RunWorkflow", "", 1), has("StartActivity", "", 5))))
		var top, measured int
		for _, s := range got.named("StartActivity") {
			switch {
			case s.Metrics["_dd.top_level"] == 1:
				top++
			case s.Metrics["_dd.measured"] == 1:
				measured++
			}
		}
		// The last one ends in a coroutine that runs after the workflow function returned,
		// so after RunWorkflow, and goes alone.
		if top+measured != 5 || top > 2 {
			t.Errorf("StartActivity spans: %d top-level, %d measured; want 4 in one chunk, the last alone:\n%s",
				top, measured, ddagent.Format(got))
		}
	})
	t.Run("Flush", func(t *testing.T) {
		agent, h, ctx := traced(t, interceptor.Options{})
		run := h.start(ctx, "flush-"+h.queue, openWorkflow) // an activity, then it waits
		// The StartActivity span ends in the workflow task after the activity; with a
		// window of an hour only Flush (called while the agent waits) can send it.
		tracerFlush := agent.Flush
		agent.Flush = func() { h.ic.Flush(); tracerFlush() }
		got := spans(agent.WaitFor(t, 15*time.Second, has("StartActivity", "", 1)))
		if len(got.named("RunWorkflow")) != 0 {
			t.Fatalf("RunWorkflow sent while the workflow runs:\n%s", ddagent.Format(got))
		}
		if err := h.client.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), "done", nil); err != nil {
			t.Fatal(err)
		}
		if err := run.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
	})
}
