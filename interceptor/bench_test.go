package interceptor_test

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdkinterceptor "go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/sync/errgroup"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/hostile"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// BenchmarkActivities20 runs a workflow of 20 activities without and with the
// interceptor (sending every span through the real tracer to a fake agent that discards
// them, as a real agent in another process costs nothing here), in the SDK's
// test environment (no server: the interceptor's cost against the SDK's own CPU cost,
// the worst case) and on the dev server (a real worker). Each iteration runs both
// variants; the metric overhead-x is traced time over plain time.
func BenchmarkActivities20(b *testing.B) {
	b.Run("testenv", func(b *testing.B) {
		startTracer(b).Discard.Store(true)
		ic, err := interceptor.New(interceptor.Options{})
		if err != nil {
			b.Fatal(err)
		}
		runOnce := func(traced bool) time.Duration {
			var suite testsuite.WorkflowTestSuite
			suite.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
			env := suite.NewTestWorkflowEnvironment()
			if traced {
				env.SetWorkerOptions(worker.Options{Interceptors: []sdkinterceptor.WorkerInterceptor{ic}})
			}
			env.RegisterWorkflow(activitiesWorkflow)
			env.RegisterActivity(stepActivity)
			start := time.Now()
			env.ExecuteWorkflow(activitiesWorkflow, 20)
			if err := env.GetWorkflowError(); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		}
		compare(b, runOnce)
	})
	b.Run("devserver", func(b *testing.B) {
		startTracer(b).Discard.Store(true)
		plain := newHarness(b, interceptor.Options{})
		plain.client = testenv.SharedTemporal(b).Client(b, client.Options{}) // no interceptor
		plain.queue += "-plain"
		plain.worker(worker.Options{})
		traced := newHarness(b, interceptor.Options{})
		traced.worker(worker.Options{})
		ctx := testContext(b, 10*time.Minute)
		runOnce := func(tr bool) time.Duration {
			h := plain
			if tr {
				h = traced
			}
			start := time.Now()
			run, err := h.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: h.queue}, activitiesWorkflow, 20)
			if err != nil {
				b.Fatal(err)
			}
			if err := run.Get(ctx, nil); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		}
		compare(b, runOnce)
	})
}

// compare runs plain and traced alternately b.N times and reports wall time and CPU
// time (the whole process: the tracer's goroutines count) per workflow, and the ratios.
func compare(b *testing.B, runOnce func(traced bool) time.Duration) {
	runOnce(false) // warm up both
	runOnce(true)
	var wall, cpu [2]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for v, traced := range []bool{false, true} {
			c0 := cpuTime()
			wall[v] += runOnce(traced)
			cpu[v] += cpuTime() - c0
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(wall[0].Nanoseconds())/n, "plain-ns/wf")
	b.ReportMetric(float64(wall[1].Nanoseconds())/n, "traced-ns/wf")
	b.ReportMetric(float64(cpu[0].Nanoseconds())/n, "plain-cpu-ns/wf")
	b.ReportMetric(float64(cpu[1].Nanoseconds())/n, "traced-cpu-ns/wf")
	b.ReportMetric(float64(wall[1])/float64(wall[0]), "overhead-x")
	b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "cpu-overhead-x")
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// openWorkflows counts first runs of openWorkflow (not replays).
var openWorkflows atomic.Int64

// openWorkflow runs an activity, then waits for a signal: an open, cached workflow with
// a finished span behind it.
func openWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	_ = workflow.ExecuteActivity(ctx, stepActivity, "x").Get(ctx, nil) // retried until it succeeds
	if !workflow.IsReplaying(ctx) {
		openWorkflows.Add(1)
	}
	workflow.GetSignalChannel(ctx, "done").Receive(ctx, nil)
	return nil
}

// BenchmarkOpenWorkflowsHeap measures the heap a worker holds for 1,000 open workflows
// in its cache, without and with the interceptor; heap-delta-B is what the interceptor
// adds for the 1,000 (its state per workflow, the spans of in-flight operations, the
// coroutines that wait for them).
func BenchmarkOpenWorkflowsHeap(b *testing.B) {
	const n = 1000
	agent := startTracer(b)
	var heap [2]int64
	for i, traced := range []bool{false, true} {
		srv := testenv.SharedTemporal(b)
		copts := client.Options{}
		if traced {
			ic, err := interceptor.New(interceptor.Options{})
			if err != nil {
				b.Fatal(err)
			}
			copts.Interceptors = []sdkinterceptor.ClientInterceptor{ic}
		}
		c := srv.Client(b, copts)
		queue := fmt.Sprintf("open-%v-%d", traced, time.Now().UnixNano())
		w := worker.New(c, queue, worker.Options{})
		w.RegisterWorkflow(openWorkflow)
		w.RegisterActivity(stepActivity)
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		before := hostile.HeapAfterGC()
		openWorkflows.Store(0)
		ctx := testContext(b, 10*time.Minute)
		var g errgroup.Group
		g.SetLimit(8)
		for j := 0; j < n; j++ {
			g.Go(func() error {
				_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, openWorkflow)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Minute)
		for openWorkflows.Load() < n {
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d workflows open after 5 minutes", openWorkflows.Load(), n)
			}
			time.Sleep(50 * time.Millisecond) // polling a counter the workflows advance
		}
		if traced { // spans waiting in the tracer's buffer are not the interceptor's
			agent.WaitFor(b, time.Minute, has("RunActivity", "", n))
		}
		heap[i] = hostile.HeapAfterGC() - before
		w.Stop()
	}
	b.ReportMetric(float64(heap[0]), "plain-heap-B/1000wf")
	b.ReportMetric(float64(heap[1]), "traced-heap-B/1000wf")
	b.ReportMetric(float64(heap[1]-heap[0]), "heap-delta-B/1000wf")
}
