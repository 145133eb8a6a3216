package interceptor_test

import (
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"gopkg.in/DataDog/dd-trace-go.v1/ddtrace"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
)

// TestErrorTags: a failure marks the spans it passes through with the application
// error's type and message; a cancellation does not mark RunWorkflow.
func TestErrorTags(t *testing.T) {
	agent, h, ctx := traced(t, interceptor.Options{})

	failing := h.start(ctx, "failing-"+h.queue, failingWorkflow)
	if err := failing.Get(ctx, nil); err == nil {
		t.Fatal("failingWorkflow succeeded")
	}
	canceled := h.start(ctx, "canceled-"+h.queue, handlersWorkflow)
	if err := h.client.CancelWorkflow(ctx, canceled.GetID(), ""); err != nil {
		t.Fatal(err)
	}
	if err := canceled.Get(ctx, nil); !temporal.IsCanceledError(err) {
		t.Fatalf("canceled workflow: %v, want a cancellation", err)
	}
	got := spans(agent.WaitFor(t, 15*time.Second, all(has("RunWorkflow", "failingWorkflow", 1), has("RunWorkflow", "handlersWorkflow", 1))))

	for _, op := range []string{"RunActivity", "StartActivity", "RunWorkflow"} {
		ss := got.named(op)
		if op == "RunWorkflow" {
			ss = ss.withResource("failingWorkflow")
		}
		if len(ss) != 1 {
			t.Errorf("%s spans = %d, want 1", op, len(ss))
			continue
		}
		s := ss[0]
		if s.Error != 1 || s.Meta["error.type"] != "DiskFull" || !strings.Contains(s.Meta["error.message"], "disk full") {
			t.Errorf("%s: error=%d error.type=%q error.message=%q; want 1, DiskFull, ...disk full...",
				op, s.Error, s.Meta["error.type"], s.Meta["error.message"])
		}
	}
	c := got.named("RunWorkflow").withResource("handlersWorkflow")[0]
	if c.Error != 0 || c.Meta["error.type"] != "" {
		t.Errorf("canceled RunWorkflow: error=%d error.type=%q; a cancellation is not an error", c.Error, c.Meta["error.type"])
	}
}

// TestOnFinish: OnFinish replaces the default error tagging and sees every span's error.
func TestOnFinish(t *testing.T) {
	agent, h, ctx := traced(t, interceptor.Options{
		Tags: map[string]any{"team": "storage"},
		OnFinish: func(span ddtrace.Span, err error) {
			if err != nil {
				span.SetTag("failed", "yes")
			}
		},
	})
	if err := h.start(ctx, "onfinish-"+h.queue, failingWorkflow).Get(ctx, nil); err == nil {
		t.Fatal("failingWorkflow succeeded")
	}
	got := spans(agent.WaitFor(t, 15*time.Second, has("RunWorkflow", "failingWorkflow", 1)))
	run := got.named("RunWorkflow")[0]
	if run.Meta["failed"] != "yes" || run.Error != 0 || run.Meta["team"] != "storage" {
		t.Errorf("RunWorkflow: failed=%q error=%d team=%q; want yes, 0 (OnFinish replaces the default), storage",
			run.Meta["failed"], run.Error, run.Meta["team"])
	}
	if start := got.named("StartWorkflow"); len(start) != 1 || start[0].Meta["failed"] != "" {
		t.Errorf("StartWorkflow (succeeded) = %+v", start)
	}
}
