package interceptor_test

import (
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	contrib "go.temporal.io/sdk/contrib/datadog/tracing"
	sdkinterceptor "go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/ddagent"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// costVariant is one way of running the same workflow: its client (and the worker made
// from it) and task queue.
type costVariant struct {
	name   string
	client client.Client
	queue  string
	traced bool
	bytes  int64
	cpu    time.Duration
	spans  int
}

// BenchmarkTracingCost runs activitiesWorkflow(20) on the dev server with no tracing,
// with longhaul's interceptor and with Temporal's contrib/datadog (v0.5.0), each
// iteration once each in a rotating order, all in one process and one run. It reports
// per workflow the bytes the tracer sent to the agent, the spans, and the CPU time of the
// process (client, worker and tracer) from the start to the result, and the ratios
// longhaul/contrib bytes and traced/untraced CPU. Between workflows it waits until the
// agent has every span (so a workflow's bytes are all its own); the fake agent decodes
// what arrives during a run in this process too, a small cost counted against both
// tracers alike.
func BenchmarkTracingCost(b *testing.B) {
	const activities = 20
	agent := startTracer(b)
	srv := testenv.SharedTemporal(b)
	ours, err := interceptor.New(interceptor.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ours.Flush)
	variants := []*costVariant{
		{name: "none"},
		{name: "longhaul", traced: true},
		{name: "contrib", traced: true},
	}
	for _, v := range variants {
		copts := client.Options{}
		switch v.name {
		case "longhaul":
			copts.Interceptors = []sdkinterceptor.ClientInterceptor{ours}
		case "contrib":
			copts.Interceptors = []sdkinterceptor.ClientInterceptor{contrib.NewTracingInterceptor(contrib.TracerOptions{})}
		}
		v.client = srv.Client(b, copts)
		v.queue = fmt.Sprintf("cost-%s-%d", v.name, time.Now().UnixNano())
		w := worker.New(v.client, v.queue, worker.Options{})
		registerAll(w)
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(w.Stop)
		runCostOnce(b, agent, v, activities) // warm up
		v.bytes, v.cpu, v.spans = 0, 0, 0
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range variants {
			runCostOnce(b, agent, variants[(i+j)%len(variants)], activities)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	for _, v := range variants {
		b.ReportMetric(float64(v.cpu.Nanoseconds())/n, v.name+"-cpu-ns/wf")
		if v.traced {
			b.ReportMetric(float64(v.bytes)/n, v.name+"-B/wf")
			b.ReportMetric(float64(v.spans)/n, v.name+"-spans/wf")
		}
	}
	none, lh, cb := variants[0], variants[1], variants[2]
	b.ReportMetric(float64(lh.bytes)/float64(cb.bytes), "longhaul/contrib-B")
	b.ReportMetric(float64(lh.cpu)/float64(none.cpu), "longhaul/none-cpu")
	b.ReportMetric(float64(cb.cpu)/float64(none.cpu), "contrib/none-cpu")
}

// runCostOnce runs the workflow once for v and adds its CPU time, and for a traced
// variant the bytes and spans the agent got for it.
func runCostOnce(b *testing.B, agent *ddagent.Agent, v *costVariant, activities int) {
	b.Helper()
	agent.Reset()
	bytes0 := agent.Bytes()
	ctx := testContext(b, time.Minute)
	c0 := cpuTime()
	run, err := v.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: v.queue}, activitiesWorkflow, activities)
	if err != nil {
		b.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		b.Fatal(err)
	}
	v.cpu += cpuTime() - c0
	if !v.traced {
		return
	}
	got := agent.WaitFor(b, 30*time.Second, all(has("StartWorkflow", "", 1), has("RunWorkflow", "", 1),
		has("StartActivity", "", activities), has("RunActivity", "", activities)))
	v.bytes += agent.Bytes() - bytes0
	v.spans += len(got)
}
