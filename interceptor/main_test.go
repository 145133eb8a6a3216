package interceptor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"gopkg.in/DataDog/dd-trace-go.v1/ddtrace/tracer"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/ddagent"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// startTracer starts the real tracer for one test, sending to a fake agent of its own.
// The tracer is process-global, so tests that use it do not run in parallel.
func startTracer(t testing.TB) *ddagent.Agent {
	t.Helper()
	agent := ddagent.Start(t)
	t.Setenv("DD_INSTRUMENTATION_TELEMETRY_ENABLED", "false")
	t.Setenv("DD_REMOTE_CONFIGURATION_ENABLED", "false")
	tracer.Start(
		tracer.WithAgentAddr(agent.Addr),
		tracer.WithLogStartup(false),
		tracer.WithService("longhaul-test"),
		tracer.WithDogstatsdAddress("127.0.0.1:1"), // nothing listens; keeps metrics off the default port
	)
	t.Cleanup(tracer.Stop)
	agent.Flush = tracer.Flush
	return agent
}

// harness is a dev server client with the interceptor, and workers on one task queue.
type harness struct {
	t      testing.TB
	client client.Client
	ic     *interceptor.Interceptor
	queue  string
	ns     string
}

func newHarness(t testing.TB, opts interceptor.Options) *harness {
	t.Helper()
	return newHarnessWith(t, opts, client.Options{})
}

// newHarnessWith is newHarness with client options (the interceptor is added to them).
func newHarnessWith(t testing.TB, opts interceptor.Options, copts client.Options) *harness {
	t.Helper()
	srv := testenv.SharedTemporal(t)
	ic, err := interceptor.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ic.Flush) // before the test's tracer stops: nothing of it reaches the next test's agent
	copts.Interceptors = append(copts.Interceptors, ic)
	c := srv.Client(t, copts)
	return &harness{t: t, client: c, ic: ic, queue: fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano()), ns: srv.Namespace}
}

// worker starts a worker (it inherits the interceptor from the client) with the test
// workflows and activities; the returned function stops it.
func (h *harness) worker(opts worker.Options) (stop func()) {
	h.t.Helper()
	w := worker.New(h.client, h.queue, opts)
	registerAll(w)
	if err := w.Start(); err != nil {
		h.t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			w.Stop()
		}
	}
	h.t.Cleanup(stop)
	return stop
}

func (h *harness) start(ctx context.Context, id string, wf any, args ...any) client.WorkflowRun {
	h.t.Helper()
	run, err := h.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: h.queue}, wf, args...)
	if err != nil {
		h.t.Fatal(err)
	}
	return run
}

// traced starts the tracer, a harness with opts and a worker, and a one-minute context:
// how most tests begin.
func traced(t testing.TB, opts interceptor.Options) (*ddagent.Agent, *harness, context.Context) {
	t.Helper()
	agent := startTracer(t)
	h := newHarness(t, opts)
	h.worker(worker.Options{})
	return agent, h, testContext(t, time.Minute)
}

// queryString queries the workflow and returns its string answer. Query only a worker
// that has been polling for a while: see TestScenario for what a query sent right after
// a worker stopped meets.
func queryString(t testing.TB, ctx context.Context, h *harness, id, runID, name string) string {
	t.Helper()
	v, err := h.client.QueryWorkflow(ctx, id, runID, name)
	if err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
	var s string
	if err := v.Get(&s); err != nil {
		t.Fatalf("query %s result: %v", name, err)
	}
	return s
}

func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// spans is what the agent received, with lookups for assertions.
type spans []ddagent.Span

// where returns the spans keep keeps.
func (ss spans) where(keep func(ddagent.Span) bool) spans {
	var out spans
	for _, s := range ss {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

func (ss spans) named(op string) spans { return ss.fullNamed("temporal." + op) }

// fullNamed returns the spans with operation name op, prefix included.
func (ss spans) fullNamed(op string) spans {
	return ss.where(func(s ddagent.Span) bool { return s.Name == op })
}

func (ss spans) withResource(res string) spans {
	return ss.where(func(s ddagent.Span) bool { return s.Resource == res })
}

func (ss spans) withTag(k, v string) spans {
	return ss.where(func(s ddagent.Span) bool { return s.Meta[k] == v })
}

func (ss spans) byID() map[uint64]ddagent.Span {
	m := make(map[uint64]ddagent.Span, len(ss))
	for _, s := range ss {
		m[s.SpanID] = s
	}
	return m
}

// has reports whether at least n spans named op (and resource, unless empty) arrived.
func has(op, resource string, n int) func([]ddagent.Span) bool {
	return func(ss []ddagent.Span) bool {
		got := spans(ss).named(op)
		if resource != "" {
			got = got.withResource(resource)
		}
		return len(got) >= n
	}
}

func all(conds ...func([]ddagent.Span) bool) func([]ddagent.Span) bool {
	return func(ss []ddagent.Span) bool {
		for _, c := range conds {
			if !c(ss) {
				return false
			}
		}
		return true
	}
}

// underRun returns the spans whose nearest RunWorkflow ancestor is run: the spans of
// that run, which carry no run id of their own (their RunWorkflow says it).
func (ss spans) underRun(run ddagent.Span) spans {
	ids := ss.byID()
	var out spans
	for _, s := range ss {
		for p, ok := ids[s.ParentID]; ok; p, ok = ids[p.ParentID] {
			if p.Name == "temporal.RunWorkflow" {
				if p.SpanID == run.SpanID {
					out = append(out, s)
				}
				break
			}
		}
	}
	return out
}
