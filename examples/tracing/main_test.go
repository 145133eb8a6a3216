package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/ddagent"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestTracingExample runs the example against a dev server with the agent address taken
// from DD_TRACE_AGENT_URL, and checks the trace that reaches the (fake, wire-level) agent.
func TestTracingExample(t *testing.T) {
	srv := testenv.Temporal(t, testenv.DevServerOptions{})
	agent := ddagent.Start(t)
	t.Setenv("DD_TRACE_AGENT_URL", agent.URL)
	t.Setenv("DD_INSTRUMENTATION_TELEMETRY_ENABLED", "false")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, settings{temporal: srv.Address, blobDir: t.TempDir(), size: 3 << 20, wait: time.Second}); err != nil {
		t.Fatalf("tracing example: %v\n%s", err, out.String())
	}
	runID := strings.Fields(out.String()[strings.Index(out.String(), "(run ")+5:])[0]
	runID = strings.TrimSuffix(runID, ")")
	// run stops the tracer, which flushes; the spans are there now or very soon.
	spans := agent.WaitFor(t, 30*time.Second, func(spans []ddagent.Span) bool {
		for _, s := range spans {
			if strings.Contains(s.Name, "RunWorkflow") && s.Meta["temporal.RunID"] == runID {
				return true
			}
		}
		return false
	})
	var root ddagent.Span
	for _, s := range spans {
		if strings.Contains(s.Name, "RunWorkflow") && s.Meta["temporal.RunID"] == runID {
			root = s
		}
	}
	children := map[string]int{}
	for _, s := range spans {
		if s.TraceID == root.TraceID && s.SpanID != root.SpanID {
			children[s.Name]++
		}
	}
	t.Logf("spans in the workflow's trace: %v", children)
	var activities, timers int
	for name, n := range children {
		if strings.Contains(name, "Activity") {
			activities += n
		}
		if strings.Contains(strings.ToLower(name), "timer") {
			timers += n
		}
	}
	if activities < 2 || timers < 1 {
		t.Fatalf("trace has %d activity spans and %d timer spans, want at least 2 and 1:\n%s", activities, timers, ddagent.Format(spans))
	}
	if root.Duration < int64(time.Second) {
		t.Fatalf("RunWorkflow lasted %s, shorter than the workflow's 1s timer", time.Duration(root.Duration))
	}
}
