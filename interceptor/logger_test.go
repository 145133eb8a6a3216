package interceptor_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
)

// TestLoggerCorrelation: workflow and activity loggers carry dd.trace_id and dd.span_id
// of the span the code runs in (decimal, lower 64 bits of the trace id).
func TestLoggerCorrelation(t *testing.T) {
	agent := startTracer(t)
	logs := &captureLogger{}
	h := newHarnessWith(t, interceptor.Options{}, client.Options{Logger: logs})
	h.worker(worker.Options{})
	ctx := testContext(t, time.Minute)

	run := h.start(ctx, "logs-"+h.queue, childWorkflow) // one activity, which logs "step"
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	wfRun := h.start(ctx, "logs-wait-"+h.queue, waitWorkflow, time.Millisecond) // logs "waiting"
	if err := wfRun.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got := spans(agent.WaitFor(t, 15*time.Second, all(has("RunActivity", "", 1), has("RunWorkflow", "waitWorkflow", 1))))

	ra := got.named("RunActivity")[0]
	wf := got.named("RunWorkflow").withResource("waitWorkflow")[0]
	for _, c := range []struct {
		msg           string
		trace, spanID uint64
	}{
		{"step", ra.TraceID, ra.SpanID},
		{"waiting", wf.TraceID, wf.SpanID},
	} {
		e, ok := logs.find(c.msg)
		if !ok {
			t.Errorf("no log entry %q", c.msg)
			continue
		}
		if e["dd.trace_id"] != strconv.FormatUint(c.trace, 10) || e["dd.span_id"] != strconv.FormatUint(c.spanID, 10) {
			t.Errorf("log %q: dd.trace_id=%v dd.span_id=%v; want %d %d", c.msg, e["dd.trace_id"], e["dd.span_id"], c.trace, c.spanID)
		}
	}
}

// captureLogger is a Temporal log.Logger that keeps every entry's fields.
type captureLogger struct {
	mu      sync.Mutex
	entries []map[string]any
}

func (l *captureLogger) add(msg string, kv []any) {
	e := map[string]any{"msg": msg}
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			e[k] = kv[i+1]
		}
	}
	l.mu.Lock()
	l.entries = append(l.entries, e)
	l.mu.Unlock()
}

func (l *captureLogger) find(msg string) (map[string]any, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.entries {
		if e["msg"] == msg {
			return e, true
		}
	}
	return nil, false
}

func (l *captureLogger) Debug(msg string, kv ...any) { l.add(msg, kv) }
func (l *captureLogger) Info(msg string, kv ...any)  { l.add(msg, kv) }
func (l *captureLogger) Warn(msg string, kv ...any)  { l.add(msg, kv) }
func (l *captureLogger) Error(msg string, kv ...any) { l.add(msg, kv) }
