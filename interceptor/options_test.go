package interceptor_test

import (
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/ddagent"
)

// TestDisableOptions runs a workflow that gets a query, an update and a signal, once
// with each Disable*Tracing option: the spans of that kind are gone, client side and
// worker side, and the others are still there.
func TestDisableOptions(t *testing.T) {
	signal := []string{"SignalWorkflow", "HandleSignal"}
	query := []string{"QueryWorkflow", "HandleQuery"}
	update := []string{"UpdateWorkflow", "ValidateUpdate", "HandleUpdate"}
	tests := []struct {
		name      string
		opts      interceptor.Options
		want, not []string
	}{
		{"none", interceptor.Options{}, concat(signal, query, update), nil},
		{"signal", interceptor.Options{DisableSignalTracing: true}, concat(query, update), signal},
		{"query", interceptor.Options{DisableQueryTracing: true}, concat(signal, update), query},
		{"update", interceptor.Options{DisableUpdateTracing: true}, concat(signal, query), update},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agent, h, ctx := traced(t, tt.opts)
			run := h.start(ctx, "handlers-"+h.queue, handlersWorkflow)

			if state := queryString(t, ctx, h, run.GetID(), "", "state"); state != "ok" {
				t.Fatalf("query = %q, want %q", state, "ok")
			}
			upd, err := h.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID: run.GetID(), UpdateName: "set", Args: []any{"x"}, WaitForStage: client.WorkflowUpdateStageCompleted,
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := upd.Get(ctx, nil); err != nil {
				t.Fatal(err)
			}
			if err := h.client.SignalWorkflow(ctx, run.GetID(), "", "done", nil); err != nil {
				t.Fatal(err)
			}
			if err := run.Get(ctx, nil); err != nil {
				t.Fatal(err)
			}

			conds := []func([]ddagent.Span) bool{has("RunWorkflow", "", 1)}
			for _, op := range tt.want {
				conds = append(conds, has(op, "", 1))
			}
			got := spans(agent.WaitFor(t, 15*time.Second, all(conds...)))
			for _, op := range tt.not {
				if n := len(got.named(op)); n != 0 {
					t.Errorf("%d %s spans despite the option", n, op)
				}
			}
		})
	}
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, iv := range []time.Duration{time.Nanosecond, time.Millisecond} {
		if _, err := interceptor.New(interceptor.Options{SnapshotInterval: iv}); !errors.Is(err, interceptor.ErrInvalidOptions) {
			t.Errorf("SnapshotInterval %s: err = %v, want ErrInvalidOptions", iv, err)
		}
	}
	if _, err := interceptor.New(interceptor.Options{}); err != nil {
		t.Errorf("zero Options: %v", err)
	}
}
