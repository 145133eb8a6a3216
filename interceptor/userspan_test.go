package interceptor_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/worker"
	"gopkg.in/DataDog/dd-trace-go.v1/ddtrace/tracer"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/ddagent"
)

// TestUserSpan: a span started with StartSpan in workflow code, on a worker without a
// sticky cache (each task replays), arrives once, with its tags, parented to
// RunWorkflow, and is the parent of what the workflow does inside it.
func TestUserSpan(t *testing.T) {
	worker.SetStickyWorkflowCacheSize(0)
	t.Cleanup(func() { worker.SetStickyWorkflowCacheSize(10000) })
	agent, h, ctx := traced(t, interceptor.Options{})
	run := h.start(ctx, "user-"+h.queue, userSpanWorkflow)
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got := spans(agent.WaitFor(t, 15*time.Second, all(has("RunWorkflow", "", 1), func(ss []ddagent.Span) bool {
		for _, s := range ss {
			if s.Name == "migrate.batch" {
				return true
			}
		}
		return false
	})))
	tracer.Flush()
	got = spans(agent.Spans())
	checkExactlyOnce(t, got)
	checkNoOrphans(t, got)
	byID := got.byID()
	var user ddagent.Span
	for _, s := range got {
		if s.Name == "migrate.batch" {
			user = s
		}
	}
	runWF := got.named("RunWorkflow")[0]
	if user.ParentID != runWF.SpanID || user.TraceID != runWF.TraceID || user.Resource != "batch-1" || user.Metrics["rows"] != 1000 {
		t.Errorf("user span = %+v; want child of RunWorkflow %d with resource batch-1, rows=1000", user, runWF.SpanID)
	}
	if user.SpanID != interceptor.SpanIDFor(h.ns, run.GetRunID(), 1) {
		t.Errorf("user span id is not sequence number 1")
	}
	for _, op := range []string{"StartActivity", "Timer"} {
		ss := got.named(op)
		if len(ss) != 1 || byID[ss[0].ParentID].Name != "migrate.batch" {
			t.Errorf("%s spans %d, want one under the user span", op, len(ss))
		}
	}
}
