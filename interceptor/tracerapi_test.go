package interceptor_test

import (
	"context"
	"testing"
	"time"

	v2 "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	"go.temporal.io/sdk/worker"
	v1 "gopkg.in/DataDog/dd-trace-go.v1/ddtrace/tracer"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/ddagent"
)

// startV2 starts the tracer with the v2 API and a span of the application's; it returns
// the span's id, a context carrying it and the function that finishes it.
func startV2(t *testing.T, agent *ddagent.Agent, ctx context.Context) (uint64, context.Context, func()) {
	v2.Start(v2.WithAgentAddr(agent.Addr), v2.WithLogStartup(false), v2.WithService("longhaul-test"),
		v2.WithDogstatsdAddr("127.0.0.1:1"))
	t.Cleanup(v2.Stop)
	agent.Flush = v2.Flush
	span, ctx := v2.StartSpanFromContext(ctx, "app.migrate")
	return span.Context().SpanID(), ctx, func() { span.Finish() }
}

// startV1 starts the tracer with the v1 API (the shim over v2) and a span of the application's.
func startV1(t *testing.T, agent *ddagent.Agent, ctx context.Context) (uint64, context.Context, func()) {
	v1.Start(v1.WithAgentAddr(agent.Addr), v1.WithLogStartup(false), v1.WithService("longhaul-test"),
		v1.WithDogstatsdAddress("127.0.0.1:1"))
	t.Cleanup(v1.Stop)
	agent.Flush = v1.Flush
	span, ctx := v1.StartSpanFromContext(ctx, "app.migrate")
	return span.Context().SpanID(), ctx, func() { span.Finish() }
}

// TestTracerAPIs: an application may start the tracer and its own spans with either
// dd-trace-go API, v2 or the v1 shim over it: the workflow's trace continues the
// application's span either way, down to the activity.
func TestTracerAPIs(t *testing.T) {
	tests := []struct {
		name  string
		start func(*testing.T, *ddagent.Agent, context.Context) (uint64, context.Context, func())
	}{
		{"v2", startV2},
		{"v1", startV1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agent := ddagent.Start(t)
			t.Setenv("DD_INSTRUMENTATION_TELEMETRY_ENABLED", "false")
			t.Setenv("DD_REMOTE_CONFIGURATION_ENABLED", "false")
			root, ctx, finish := tt.start(t, agent, testContext(t, time.Minute))
			h := newHarness(t, interceptor.Options{})
			h.worker(worker.Options{})
			if err := h.start(ctx, "api-"+h.queue, childWorkflow).Get(ctx, nil); err != nil {
				t.Fatal(err)
			}
			finish() // the client's span is sent with the application's, which ends here
			got := spans(agent.WaitFor(t, 15*time.Second, all(has("StartWorkflow", "", 1), has("RunWorkflow", "", 1),
				has("StartActivity", "", 1), has("RunActivity", "", 1))))
			start, run := got.named("StartWorkflow")[0], got.named("RunWorkflow")[0]
			act, ra := got.named("StartActivity")[0], got.named("RunActivity")[0]
			if start.ParentID != root || run.ParentID != start.SpanID || act.ParentID != run.SpanID || ra.ParentID != act.SpanID {
				t.Errorf("chain app %d <- StartWorkflow %d/%d <- RunWorkflow %d/%d <- StartActivity %d/%d <- RunActivity %d",
					root, start.SpanID, start.ParentID, run.SpanID, run.ParentID, act.SpanID, act.ParentID, ra.ParentID)
			}
			for _, s := range []ddagent.Span{start, run, act, ra} {
				if s.TraceID != start.TraceID {
					t.Errorf("%s in trace %d, want %d", s.Name, s.TraceID, start.TraceID)
				}
			}
		})
	}
}
