package interceptor_test

import (
	"errors"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/ddagent"
)

// TestSnapshots: a workflow held in the worker's cache while it waits 4 s, with a
// snapshot interval of 1 s, is sent as partial RunWorkflow copies (same ids, increasing
// _dd.partial_version) and then exactly once as the final span, last and marked as
// long-running. The default (zero Options, the default shortened to 1 s) does the same;
// NoSnapshots sends the final span alone.
func TestSnapshots(t *testing.T) {
	tests := []struct {
		name     string
		opts     interceptor.Options
		partials bool
	}{
		{"explicit interval", interceptor.Options{SnapshotInterval: time.Second}, true},
		{"default", interceptor.Options{}, true},
		{"off", interceptor.Options{SnapshotInterval: interceptor.NoSnapshots}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			interceptor.SetDefaultSnapshotInterval(t, time.Second)
			agent, h, ctx := traced(t, tt.opts)

			run := h.start(ctx, "snapshots-"+h.queue, waitWorkflow, 4*time.Second)
			if err := run.Get(ctx, nil); err != nil {
				t.Fatal(err)
			}
			// A second workflow on the same worker and tracer, waited for after the first:
			// a copy of the first sent after its final span would have arrived by then.
			sentinel := h.start(ctx, "sentinel-"+h.queue, waitWorkflow, time.Millisecond)
			if err := sentinel.Get(ctx, nil); err != nil {
				t.Fatal(err)
			}
			got := spans(agent.WaitFor(t, 15*time.Second, func(ss []ddagent.Span) bool {
				return len(finals(spans(ss).named("RunWorkflow").withTag("temporal.WorkflowID", sentinel.GetID()))) == 1
			}))
			copies := got.named("RunWorkflow").withTag("temporal.WorkflowID", run.GetID())
			versions := checkSnapshots(t, copies)
			switch {
			case tt.partials && len(versions) < 2:
				t.Errorf("partial versions = %v, want at least 2\n%s", versions, ddagent.Format(copies))
			case !tt.partials && len(versions) > 0:
				t.Errorf("partial versions = %v with snapshots off\n%s", versions, ddagent.Format(copies))
			}
			final := copies[len(copies)-1]
			long, marked := final.Metrics["_dd.was_long_running"]
			if tt.partials && long != 1 {
				t.Errorf("final span metrics = %v, want _dd.was_long_running=1", final.Metrics)
			}
			if !tt.partials && marked {
				t.Errorf("final span marked as long-running with snapshots off: %v", final.Metrics)
			}
			if final.Duration < int64(4*time.Second) {
				t.Errorf("final span lasted %s, want at least 4s", time.Duration(final.Duration))
			}
			t.Logf("partial versions %v", versions)
		})
	}
}

// checkSnapshots checks the RunWorkflow copies of one run in arrival order: same ids and
// start, increasing partial versions, and exactly one final span, the last. It returns
// the partial versions.
func checkSnapshots(t *testing.T, copies spans) []float64 {
	t.Helper()
	if n := len(finals(copies)); n != 1 {
		t.Fatalf("final RunWorkflow spans = %d, want exactly 1\n%s", n, ddagent.Format(copies))
	}
	var versions []float64
	for i, s := range copies {
		if s.SpanID != copies[0].SpanID || s.TraceID != copies[0].TraceID || s.Start != copies[0].Start {
			t.Fatalf("RunWorkflow copies differ in ids or start:\n%s", ddagent.Format(copies))
		}
		v, partial := s.Metrics["_dd.partial_version"]
		if !partial {
			if i != len(copies)-1 {
				t.Errorf("a partial copy arrived after the final span:\n%s", ddagent.Format(copies))
			}
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
	return versions
}

// finals drops the partial copies.
func finals(ss spans) spans {
	var out spans
	for _, s := range ss {
		if _, partial := s.Metrics["_dd.partial_version"]; !partial {
			out = append(out, s)
		}
	}
	return out
}

// TestSnapshotIntervalOptions: zero is the default, negative is off, a positive value
// below the minimum is refused.
func TestSnapshotIntervalOptions(t *testing.T) {
	for _, tt := range []struct {
		in, want time.Duration
		err      error
	}{
		{0, interceptor.DefaultSnapshotInterval, nil},
		{interceptor.NoSnapshots, interceptor.NoSnapshots, nil},
		{-time.Hour, interceptor.NoSnapshots, nil},
		{interceptor.MinSnapshotInterval, interceptor.MinSnapshotInterval, nil},
		{2 * time.Minute, 2 * time.Minute, nil},
		{time.Millisecond, 0, interceptor.ErrInvalidOptions},
	} {
		got, err := interceptor.SnapshotIntervalOf(interceptor.Options{SnapshotInterval: tt.in})
		if !errors.Is(err, tt.err) || (err == nil && got != tt.want) {
			t.Errorf("SnapshotInterval %s: resolved to %s, %v; want %s, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	if interceptor.DefaultSnapshotInterval != 5*time.Minute {
		t.Errorf("DefaultSnapshotInterval = %s, want 5m (README and doc say so)", interceptor.DefaultSnapshotInterval)
	}
}
