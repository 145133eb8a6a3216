package interceptor

import (
	"context"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// tagWorkflowStatus is how a run ended, on the final spans the closer sends.
const tagWorkflowStatus = "temporal.WorkflowStatus"

// Values of tagWorkflowStatus.
const (
	statusTerminated = "terminated"
	statusTimedOut   = "timed_out"
	statusCanceled   = "canceled"
)

// closeRun sends the final RunWorkflow span of run, unless a workflow task ended it (a
// cancellation completed by the workflow). A run whose history is gone (retention, or
// deleted) is logged and skipped; other errors are returned, to be retried.
func (cl *Closer) closeRun(ctx context.Context, namespace string, run *workflowpb.WorkflowExecutionInfo) error {
	exec := run.GetExecution()
	closeEv, err := cl.event(ctx, namespace, exec, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	var startEv *historypb.HistoryEvent
	if err == nil {
		startEv, err = cl.event(ctx, namespace, exec, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	}
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		cl.skip(ctx, exec, err.Error())
		return nil
	case err != nil:
		return err
	case closeEv == nil || startEv.GetWorkflowExecutionStartedEventAttributes() == nil:
		cl.skip(ctx, exec, "history lacks its start or close event")
		return nil
	}
	d := cl.finalSpan(namespace, exec, startEv, closeEv)
	if d != nil {
		cl.ic.send(d, false)
		cl.opts.Logger.DebugContext(ctx, "interceptor: closer: run closed", "workflow_id", exec.GetWorkflowId(),
			"run_id", exec.GetRunId(), "status", d.tags[tagWorkflowStatus], "since_close", time.Since(d.end))
	}
	return nil
}

func (cl *Closer) skip(ctx context.Context, exec *commonpb.WorkflowExecution, why string) {
	cl.opts.Logger.WarnContext(ctx, "interceptor: closer: run skipped", "workflow_id", exec.GetWorkflowId(),
		"run_id", exec.GetRunId(), "reason", why)
}

// event returns the first event of the run's history, or with
// HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT its close event; nil if there is none.
func (cl *Closer) event(ctx context.Context, namespace string, exec *commonpb.WorkflowExecution,
	filter enumspb.HistoryEventFilterType,
) (*historypb.HistoryEvent, error) {
	resp, err := cl.c.WorkflowService().GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{
		Namespace:              namespace,
		Execution:              exec,
		MaximumPageSize:        1,
		HistoryEventFilterType: filter,
	})
	if err != nil {
		return nil, fmt.Errorf("interceptor: closer: history of %s/%s: %w", exec.GetWorkflowId(), exec.GetRunId(), err)
	}
	if ev := resp.GetHistory().GetEvents(); len(ev) > 0 {
		return ev[0], nil
	}
	return nil, nil
}

// finalSpan builds the final RunWorkflow span of a run from its first and last events,
// nil when a workflow task ended the run (its worker sent the span).
func (cl *Closer) finalSpan(namespace string, exec *commonpb.WorkflowExecution, startEv, closeEv *historypb.HistoryEvent) *spanData {
	started := startEv.GetWorkflowExecutionStartedEventAttributes()
	start, end := startEv.GetEventTime().AsTime(), closeEv.GetEventTime().AsTime()
	closed := &RunClosedError{}
	switch closeEv.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
		closed.Status = statusTerminated
		closed.Reason = closeEv.GetWorkflowExecutionTerminatedEventAttributes().GetReason()
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
		closed.Status = statusTimedOut
		closed.Reason = timeoutReason(started, end.Sub(start))
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
		if closeEv.GetWorkflowExecutionCanceledEventAttributes().GetWorkflowTaskCompletedEventId() != 0 {
			return nil // the workflow returned canceled from a workflow task
		}
		closed.Status = statusCanceled
		closed.Reason = "canceled without a final workflow task"
	default: // completed, failed, continued as new: a workflow task ended the run
		return nil
	}
	d, errs := cl.ic.runSpan(runStart{
		namespace:     namespace,
		workflowID:    exec.GetWorkflowId(),
		runID:         exec.GetRunId(),
		workflowType:  started.GetWorkflowType().GetName(),
		continuedFrom: started.GetContinuedExecutionRunId(),
		start:         start,
		header:        started.GetHeader().GetFields(),
	})
	for _, err := range errs {
		cl.opts.Logger.Warn("interceptor: closer: ignoring unreadable trace context in workflow header",
			"workflow_id", exec.GetWorkflowId(), "run_id", exec.GetRunId(), "error", err)
	}
	d.end = end
	if end.Before(start) {
		d.end = start
	}
	d.err = closed
	d.tags[tagWorkflowStatus] = closed.Status
	if iv := cl.ic.opts.SnapshotInterval; iv > 0 && end.Sub(start) >= iv {
		d.tags[metricWasLongRunning] = 1
	}
	return d
}

// timeoutReason names the timeout that ended a run after it had run for elapsed.
func timeoutReason(started *historypb.WorkflowExecutionStartedEventAttributes, elapsed time.Duration) string {
	run, execution := started.GetWorkflowRunTimeout().AsDuration(), started.GetWorkflowExecutionTimeout().AsDuration()
	switch {
	case run > 0 && (execution == 0 || run < execution || elapsed >= run):
		return "run timeout " + run.String()
	case execution > 0:
		return "execution timeout " + execution.String()
	}
	return "timeout"
}
