package interceptor_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdkinterceptor "go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/interceptor"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/ddagent"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// bigResultActivity returns n bytes of table rows.
func bigResultActivity(_ context.Context, n int) ([]byte, error) {
	line := []byte(`{"table":"users","id":1234567,"status":"migrated"}` + "\n")
	return bytes.Repeat(line, n/len(line)+1)[:n], nil
}

// bigResultWorkflow runs bigResultActivity and returns the length of what it got.
func bigResultWorkflow(ctx workflow.Context, n int) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var b []byte
	err := workflow.ExecuteActivity(ctx, bigResultActivity, n).Get(ctx, &b)
	return len(b), err
}

// TestCodecSpansInActivityTrace is the acceptance test of offload tracing on the real
// dev server, tracer and fake agent: an activity returns 50 MiB, and with
// codec.Options.Tracer set the offload of that result (in the activity worker, after
// the attempt) is a child of the attempt's RunActivity span and the fetch of it (in the
// workflow) a child of the workflow's StartActivity span, in the trace of both. With no
// Tracer, the codec sends no span.
func TestCodecSpansInActivityTrace(t *testing.T) {
	for _, traced := range []bool{true, false} {
		t.Run(fmt.Sprintf("tracer=%v", traced), func(t *testing.T) {
			agent := startTracer(t)
			ic, err := interceptor.New(interceptor.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(ic.Flush)
			opts := codec.Options{CacheBytes: -1} // so the workflow fetches what the activity stored
			if traced {
				opts.Tracer = ic.CodecTracer()
			}
			c, err := codec.New(memstore.New(), opts)
			if err != nil {
				t.Fatal(err)
			}
			cl := testenv.SharedTemporal(t).Client(t, client.Options{
				Interceptors:  []sdkinterceptor.ClientInterceptor{ic},
				DataConverter: codec.NewDataConverter(c, nil),
			})
			queue := "codectrace-" + time.Now().Format("150405.000000000")
			w := worker.New(cl, queue, worker.Options{})
			w.RegisterWorkflow(bigResultWorkflow)
			w.RegisterActivity(bigResultActivity)
			if err := w.Start(); err != nil {
				t.Fatal(err)
			}
			defer w.Stop()

			const size = 50 << 20
			ctx := testContext(t, 3*time.Minute)
			run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue, WorkflowTaskTimeout: time.Minute},
				bigResultWorkflow, size)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := run.Get(ctx, &n); err != nil || n != size {
				t.Fatalf("workflow: %d bytes, %v", n, err)
			}
			got := spans(agent.WaitFor(t, 30*time.Second, all(has("RunWorkflow", "", 1), has("RunActivity", "", 1))))
			if !traced {
				if codecSpans := append(got.fullNamed("longhaul.offload"), got.fullNamed("longhaul.fetch")...); len(codecSpans) > 0 {
					t.Fatalf("no Tracer, yet the codec sent %s", ddagent.Format(codecSpans))
				}
				return
			}
			got = spans(agent.WaitFor(t, 30*time.Second, func(ss []ddagent.Span) bool {
				return len(spans(ss).fullNamed("longhaul.offload")) > 0 && len(spans(ss).fullNamed("longhaul.fetch")) > 0
			}))
			checkCodecSpans(t, got, size)
		})
	}
}

// checkCodecSpans checks the one offload and the one fetch of the activity's result.
func checkCodecSpans(t *testing.T, got spans, size int) {
	t.Helper()
	act, start := got.named("RunActivity")[0], got.named("StartActivity")[0]
	offloads, fetches := got.fullNamed("longhaul.offload"), got.fullNamed("longhaul.fetch")
	if len(offloads) != 1 || len(fetches) != 1 {
		t.Fatalf("%d offloads and %d fetches, want 1 each:\n%s", len(offloads), len(fetches), ddagent.Format(got))
	}
	off, fetch := offloads[0], fetches[0]
	if act.ParentID != start.SpanID || act.TraceID != start.TraceID {
		t.Fatalf("RunActivity is not StartActivity's child:\n%s", ddagent.Format(got))
	}
	if off.TraceID != act.TraceID || off.ParentID != act.SpanID {
		t.Errorf("offload in trace %d under %d; want RunActivity %d in trace %d", off.TraceID, off.ParentID, act.SpanID, act.TraceID)
	}
	if fetch.TraceID != act.TraceID || fetch.ParentID != start.SpanID {
		t.Errorf("fetch in trace %d under %d; want StartActivity %d in trace %d", fetch.TraceID, fetch.ParentID, start.SpanID, act.TraceID)
	}
	for _, s := range []ddagent.Span{off, fetch} {
		if s.Metrics["longhaul.bytes"] < float64(size) || s.Metrics["longhaul.stored_bytes"] <= 0 || s.Meta["longhaul.compression"] != "zstd" ||
			len(s.Meta["longhaul.blake3"]) != 64 || s.Meta["longhaul.blake3"] != off.Meta["longhaul.blake3"] ||
			s.Metrics["longhaul.store_latency_ms"] <= 0 || s.Error != 0 {
			t.Errorf("%s: meta %v metrics %v error %d", s.Name, s.Meta, s.Metrics, s.Error)
		}
	}
	if off.Meta["longhaul.dedupe_hit"] != "false" {
		t.Errorf("offload dedupe_hit %q, want false", off.Meta["longhaul.dedupe_hit"])
	}
	if off.Start < act.Start || fetch.Start < off.Start+off.Duration {
		t.Errorf("times: activity %d, offload %d+%d, fetch %d", act.Start, off.Start, off.Duration, fetch.Start)
	}
}
