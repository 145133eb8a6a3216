package interceptor_test

import (
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
	"github.com/seed-a62fcf0e/longhaul/internal/ddagent"
)

// TestSnapshots: with a snapshot interval of 1 s, a workflow held in the worker's cache
// while it waits 5 s is sent as partial RunWorkflow copies (same ids, increasing
// _dd.partial_version), and then once as the final span, marked as long-running.
func TestSnapshots(t *testing.T) {
	agent, h, ctx := traced(t, interceptor.Options{SnapshotInterval: time.Second})

	run := h.start(ctx, "snapshots-"+h.queue, waitWorkflow, 5*time.Second)
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	final := func(ss []ddagent.Span) bool {
		for _, s := range spans(ss).named("RunWorkflow") {
			if _, partial := s.Metrics["_dd.partial_version"]; !partial {
				return true
			}
		}
		return false
	}
	got := spans(agent.WaitFor(t, 10*time.Second, final)).named("RunWorkflow")

	var versions []float64
	var last ddagent.Span
	for i, s := range got {
		if s.SpanID != got[0].SpanID || s.TraceID != got[0].TraceID || s.Start != got[0].Start {
			t.Fatalf("RunWorkflow copies differ in ids or start:\n%s", ddagent.Format(got))
		}
		v, partial := s.Metrics["_dd.partial_version"]
		if !partial {
			if i != len(got)-1 {
				t.Errorf("final span arrived before a partial copy:\n%s", ddagent.Format(got))
			}
			last = s
			continue
		}
		if len(versions) > 0 && v <= versions[len(versions)-1] {
			t.Errorf("partial versions not increasing: %v then %v", versions, v)
		}
		if _, ok := s.Metrics["_dd.was_long_running"]; ok {
			t.Errorf("partial copy marked as was_long_running")
		}
		versions = append(versions, v)
	}
	if len(versions) < 3 {
		t.Errorf("partial versions = %v, want at least 3\n%s", versions, ddagent.Format(got))
	}
	if last.Metrics["_dd.was_long_running"] != 1 {
		t.Errorf("final span metrics = %v, want _dd.was_long_running=1", last.Metrics)
	}
	if last.Duration < int64(5*time.Second) {
		t.Errorf("final span lasted %s, want at least 5s", time.Duration(last.Duration))
	}
	t.Logf("partial versions %v", versions)
}
