package ddagent_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"gopkg.in/DataDog/dd-trace-go.v1/ddtrace"
	"gopkg.in/DataDog/dd-trace-go.v1/ddtrace/tracer"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/ddagent"
)

// TestRealTracer sends spans from the real dd-trace-go tracer and checks that every field
// the interceptor relies on survives the msgpack round trip.
func TestRealTracer(t *testing.T) {
	agent := ddagent.Start(t)
	t.Setenv("DD_INSTRUMENTATION_TELEMETRY_ENABLED", "false")
	t.Setenv("DD_REMOTE_CONFIGURATION_ENABLED", "false")
	tracer.Start(tracer.WithAgentAddr(agent.Addr), tracer.WithLogStartup(false), tracer.WithService("agent-test"))
	t.Cleanup(tracer.Stop)
	agent.Flush = tracer.Flush

	start := time.Unix(1700000000, 123456789)
	root := tracer.StartSpan("root.op", tracer.ResourceName("res"), tracer.WithSpanID(42), tracer.StartTime(start))
	child := tracer.StartSpan("child.op", tracer.ChildOf(root.Context()), tracer.WithSpanID(43),
		tracer.StartTime(start.Add(time.Second)),
		tracer.WithSpanLinks([]ddtrace.SpanLink{{TraceID: 7, SpanID: 8, Attributes: map[string]string{"k": "v"}}}))
	child.SetTag("str", "x")
	child.SetTag("num", 2.5)
	child.Finish(tracer.FinishTime(start.Add(3*time.Second)), tracer.WithError(errors.New("boom")))
	root.Finish(tracer.FinishTime(start.Add(4 * time.Second)))

	spans := agent.WaitFor(t, 10*time.Second, func(s []ddagent.Span) bool { return len(s) >= 2 })
	byID := map[uint64]ddagent.Span{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	r, c := byID[42], byID[43]
	if r.Name != "root.op" || r.Resource != "res" || r.Service != "agent-test" || r.ParentID != 0 || r.TraceID != 42 {
		t.Errorf("root = %+v", r)
	}
	if r.Start != start.UnixNano() || r.Duration != int64(4*time.Second) {
		t.Errorf("root start/duration = %d/%d", r.Start, r.Duration)
	}
	if c.ParentID != 42 || c.TraceID != 42 || c.Error != 1 || c.Meta["str"] != "x" || c.Metrics["num"] != 2.5 {
		t.Errorf("child = %+v", c)
	}
	if agent.Bytes() <= 0 {
		t.Errorf("Bytes() = %d after two spans", agent.Bytes())
	}
	if c.Meta["error.message"] != "boom" {
		t.Errorf("child error.message = %q", c.Meta["error.message"])
	}
	if len(c.Links) != 1 || c.Links[0].TraceID != 7 || c.Links[0].SpanID != 8 || c.Links[0].Attributes["k"] != "v" {
		t.Errorf("child links = %+v", c.Links)
	}
}

func TestNotFoundAndTimeout(t *testing.T) {
	agent := ddagent.Start(t)
	resp, err := http.Get(agent.URL + "/info")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/info status = %d, want 404", resp.StatusCode)
	}
	if _, err := agent.Wait(50*time.Millisecond, func(s []ddagent.Span) bool { return len(s) > 0 }); err == nil {
		t.Error("Wait on an idle agent returned no error")
	}
}

func TestBadPayload(t *testing.T) {
	a, err := ddagent.New()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	resp, err := http.Post(a.URL+ddagent.TracesPath, "application/msgpack", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || len(a.Errors()) != 1 {
		t.Errorf("status = %d, errors = %v; want 400 and one error", resp.StatusCode, a.Errors())
	}
}
