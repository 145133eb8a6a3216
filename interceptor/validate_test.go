package interceptor_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/ddagent"
)

// TestValidateUpdateStableID: the first workflow task that validates an update blocks in
// the validator past the workflow task timeout, so the server times the task out and
// runs it again; the re-run validates the update again and sends its ValidateUpdate span
// with the same id, derived from the run and the update id, outside the sequence.
func TestValidateUpdateStableID(t *testing.T) {
	agent := startTracer(t)
	h := newHarness(t, interceptor.Options{})
	// The validator blocks the workflow goroutine on purpose: no deadlock panic.
	h.worker(worker.Options{DeadlockDetectionTimeout: time.Minute})
	ctx := testContext(t, time.Minute)

	run, err := h.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "validate-" + h.queue, TaskQueue: h.queue, WorkflowTaskTimeout: time.Second,
	}, slowValidatorWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	waitNoWorkflowTask(t, h, run.GetID(), run.GetRunID())
	slowValidation = 2 * time.Second
	slowValidations.Store(1)
	t.Cleanup(func() { slowValidations.Store(0) })

	upd, err := h.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: run.GetID(), RunID: run.GetRunID(), UpdateID: "upd-1", UpdateName: "slow", Args: []any{"x"},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := upd.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if n := slowValidations.Load(); n >= 0 {
		t.Fatalf("the update was validated once, want again after the slow task (counter %d)", n)
	}
	if err := h.client.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), "done", nil); err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}

	got := spans(agent.WaitFor(t, 15*time.Second, all(has("ValidateUpdate", "slow", 2), has("RunWorkflow", "slowValidatorWorkflow", 1))))
	validations := got.named("ValidateUpdate").withTag("temporal.UpdateID", "upd-1")
	want := interceptor.ValidateSpanIDFor(h.ns, run.GetRunID(), "upd-1")
	// The timed-out task and its re-run (a loaded server can time out the re-run too).
	if len(validations) < 2 {
		t.Fatalf("ValidateUpdate spans = %d, want at least 2\n%s", len(validations), ddagent.Format(validations))
	}
	for _, s := range validations {
		if s.SpanID != want {
			t.Errorf("ValidateUpdate span id %d, want %d for every run of the task\n%s", s.SpanID, want, ddagent.Format(validations))
		}
	}
	for seq := uint64(0); seq < 100; seq++ {
		if want == interceptor.SpanIDFor(h.ns, run.GetRunID(), seq) {
			t.Errorf("ValidateUpdate took sequence number %d", seq)
		}
	}
	if got := validations[0].Duration; got < int64(slowValidation) {
		t.Errorf("first validation lasted %s, want the slow one first", time.Duration(got))
	}
}
