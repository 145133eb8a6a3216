package testenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// EchoActivity returns its input.
func EchoActivity(_ context.Context, b []byte) ([]byte, error) { return b, nil }

// EchoWorkflow hands its input to EchoActivity and returns what comes back, so one
// payload crosses workflow input, activity input, activity result and workflow result.
func EchoWorkflow(ctx workflow.Context, b []byte) ([]byte, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var out []byte
	err := workflow.ExecuteActivity(ctx, EchoActivity, b).Get(ctx, &out)
	return out, err
}

// Echo runs EchoWorkflow with in on dev, on a worker of its own on taskQueue whose
// client converts with dc, fails the test unless the workflow returns in, and returns
// the workflow's input payload as history recorded it (a store's tests parse it as a
// reference).
func Echo(t testing.TB, ctx context.Context, dev *DevServer, dc converter.DataConverter, taskQueue string, in []byte) *commonpb.Payload {
	t.Helper()
	cl := dev.Client(t, client.Options{DataConverter: dc})
	w := worker.New(cl, taskQueue, worker.Options{})
	w.RegisterWorkflow(EchoWorkflow)
	w.RegisterActivity(EchoActivity)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		TaskQueue:           taskQueue,
		WorkflowTaskTimeout: time.Minute, // storing a large payload in a workflow task under -race
	}, EchoWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	if err := run.Get(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, in) {
		t.Fatalf("workflow returned %d bytes (sha256 %x), want the %d input bytes", len(out), sha256.Sum256(out), len(in))
	}
	hist := cl.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := hist.Next()
	if err != nil {
		t.Fatal(err)
	}
	return first.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0]
}
