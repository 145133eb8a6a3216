package interceptor_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	contrib "go.temporal.io/sdk/contrib/datadog/tracing"
	sdkinterceptor "go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestContribCompatibility runs Temporal's contrib/datadog interceptor (v0.5.0, its
// current release, on dd-trace-go v2; this test starts the tracer through the v1 API,
// which is a shim over the same v2 tracer) on one side and this one on the other, both
// ways: each side's RunWorkflow span continues the other side's StartWorkflow span, so a
// fleet can migrate one worker at a time.
func TestContribCompatibility(t *testing.T) {
	ours, err := interceptor.New(interceptor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	theirs := contrib.NewTracingInterceptor(contrib.TracerOptions{})
	tests := []struct {
		name           string
		client, worker sdkinterceptor.Interceptor
	}{
		{"contrib client, our worker", theirs, ours},
		{"our client, contrib worker", ours, theirs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agent := startTracer(t)
			srv := testenv.SharedTemporal(t)
			starter := srv.Client(t, client.Options{Interceptors: []sdkinterceptor.ClientInterceptor{tt.client}})
			plain := srv.Client(t, client.Options{})
			queue := "compat-" + time.Now().Format("150405.000000000")
			w := worker.New(plain, queue, worker.Options{Interceptors: []sdkinterceptor.WorkerInterceptor{tt.worker}})
			registerAll(w)
			if err := w.Start(); err != nil {
				t.Fatal(err)
			}
			defer w.Stop()

			ctx := testContext(t, time.Minute)
			run, err := starter.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, childWorkflow)
			if err != nil {
				t.Fatal(err)
			}
			if err := run.Get(ctx, nil); err != nil {
				t.Fatal(err)
			}
			got := spans(agent.WaitFor(t, 15*time.Second, all(has("StartWorkflow", "", 1), has("RunWorkflow", "", 1))))
			start, runWF := got.named("StartWorkflow")[0], got.named("RunWorkflow")[0]
			if runWF.ParentID != start.SpanID || runWF.TraceID != start.TraceID {
				t.Errorf("RunWorkflow parent %d trace %d; want StartWorkflow %d in trace %d",
					runWF.ParentID, runWF.TraceID, start.SpanID, start.TraceID)
			}
		})
	}
}
