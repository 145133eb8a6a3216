package interceptor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nexus-rpc/sdk-go/nexus"
	nexuspb "go.temporal.io/api/nexus/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
)

var echoOperation = nexus.NewSyncOperation("echo", func(ctx context.Context, in string, _ nexus.StartOperationOptions) (string, error) {
	return in, nil
})

func nexusWorkflow(ctx workflow.Context, endpoint string) (string, error) {
	c := workflow.NewNexusClient(endpoint, "echo-service")
	var out string
	err := c.ExecuteOperation(ctx, echoOperation, "hi", workflow.NexusOperationOptions{ScheduleToCloseTimeout: 30 * time.Second}).Get(ctx, &out)
	return out, err
}

// TestNexus: a Nexus operation called from a workflow is traced from schedule to result,
// and its handler continues the trace through the Nexus header.
func TestNexus(t *testing.T) {
	agent := startTracer(t)
	h := newHarness(t, interceptor.Options{})
	ctx := testContext(t, time.Minute)
	endpoint := fmt.Sprintf("ep-%d", time.Now().UnixNano())
	_, err := h.client.OperatorService().CreateNexusEndpoint(ctx, &operatorservice.CreateNexusEndpointRequest{
		Spec: &nexuspb.EndpointSpec{
			Name: endpoint,
			Target: &nexuspb.EndpointTarget{Variant: &nexuspb.EndpointTarget_Worker_{
				Worker: &nexuspb.EndpointTarget_Worker{Namespace: h.ns, TaskQueue: h.queue},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := nexus.NewService("echo-service")
	if err := svc.Register(echoOperation); err != nil {
		t.Fatal(err)
	}
	w := worker.New(h.client, h.queue, worker.Options{})
	w.RegisterWorkflow(nexusWorkflow)
	w.RegisterNexusService(svc)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	run := h.start(ctx, "nexus-"+h.queue, nexusWorkflow, endpoint)
	var out string
	if err := run.Get(ctx, &out); err != nil || out != "hi" {
		t.Fatalf("nexus workflow = %q, %v", out, err)
	}
	got := spans(agent.WaitFor(t, 15*time.Second, all(has("RunWorkflow", "", 1), has("RunStartNexusOperationHandler", "", 1))))
	runWF := got.named("RunWorkflow")[0]
	start := got.named("StartNexusOperation")
	if len(start) != 1 || start[0].ParentID != runWF.SpanID || start[0].Resource != "echo-service/echo" {
		t.Fatalf("StartNexusOperation spans = %+v, want one under RunWorkflow %d", start, runWF.SpanID)
	}
	handler := got.named("RunStartNexusOperationHandler")[0]
	if handler.ParentID != start[0].SpanID || handler.TraceID != runWF.TraceID {
		t.Errorf("handler parent %d trace %d; want StartNexusOperation %d in trace %d",
			handler.ParentID, handler.TraceID, start[0].SpanID, runWF.TraceID)
	}
}
