package interceptor

import (
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestFinalSpan: what the closer makes of a run's first and last events.
func TestFinalSpan(t *testing.T) {
	ic, err := New(Options{SnapshotInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	cl := &Closer{ic: ic}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	startEv := &historypb.HistoryEvent{
		EventTime: timestamppb.New(start),
		EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
			WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
				WorkflowType:       &commonpb.WorkflowType{Name: "migrate"},
				WorkflowRunTimeout: durationpb.New(time.Hour),
			},
		},
	}
	closeAt := func(d time.Duration, typ enumspb.EventType) *historypb.HistoryEvent {
		return &historypb.HistoryEvent{EventTime: timestamppb.New(start.Add(d)), EventType: typ}
	}
	terminated := closeAt(2*time.Minute, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED)
	terminated.Attributes = &historypb.HistoryEvent_WorkflowExecutionTerminatedEventAttributes{
		WorkflowExecutionTerminatedEventAttributes: &historypb.WorkflowExecutionTerminatedEventAttributes{Reason: "day 6"},
	}
	canceledByTask := closeAt(time.Second, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED)
	canceledByTask.Attributes = &historypb.HistoryEvent_WorkflowExecutionCanceledEventAttributes{
		WorkflowExecutionCanceledEventAttributes: &historypb.WorkflowExecutionCanceledEventAttributes{WorkflowTaskCompletedEventId: 7},
	}
	for _, tt := range []struct {
		name    string
		closeEv *historypb.HistoryEvent
		status  string // empty: no span
		reason  string
		long    bool
	}{
		{"terminated", terminated, statusTerminated, "day 6", true},
		{"timed out", closeAt(time.Hour, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT), statusTimedOut, "run timeout 1h0m0s", true},
		{"canceled without task", closeAt(time.Second, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED), statusCanceled, "canceled", false},
		{"canceled by the workflow", canceledByTask, "", "", false},
		{"completed", closeAt(time.Second, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED), "", "", false},
		{"failed", closeAt(time.Second, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED), "", "", false},
		{"continued as new", closeAt(time.Second, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW), "", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			exec := &commonpb.WorkflowExecution{WorkflowId: "wf", RunId: "run"}
			d := cl.finalSpan("ns", exec, startEv, tt.closeEv)
			if tt.status == "" {
				if d != nil {
					t.Fatalf("span for a run a workflow task ended: %+v", d)
				}
				return
			}
			if d == nil {
				t.Fatal("no span")
			}
			if d.ref.spanID != spanIDFor("ns", "run", 0) || d.ref.traceLo != traceIDFor("ns", "wf", "run") || d.parentID != 0 {
				t.Errorf("ids %+v parent %d; want the run's derived ids", d.ref, d.parentID)
			}
			if !d.start.Equal(start) || !d.end.Equal(tt.closeEv.GetEventTime().AsTime()) || d.resource != "migrate" {
				t.Errorf("span %s %s..%s, want migrate from the start to the close event", d.resource, d.start, d.end)
			}
			if d.tags[tagWorkflowStatus] != tt.status || d.err == nil || !strings.Contains(d.err.Error(), tt.reason) {
				t.Errorf("status %v err %v; want %s with %q", d.tags[tagWorkflowStatus], d.err, tt.status, tt.reason)
			}
			if _, long := d.tags[metricWasLongRunning]; long != tt.long {
				t.Errorf("was_long_running set = %v, want %v", long, tt.long)
			}
		})
	}
}

func TestCloserQuery(t *testing.T) {
	after := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	got := closerQuery("TaskQueue = 'q'", after, after.Add(time.Second))
	want := "ExecutionStatus IN ('Terminated', 'TimedOut', 'Canceled') AND CloseTime > '2026-01-02T03:04:05.123456Z'" +
		" AND CloseTime <= '2026-01-02T03:04:06.123456Z' AND WorkflowType != 'longhaul.interceptor.Closer' AND (TaskQueue = 'q')"
	if got != want {
		t.Errorf("query\n got %s\nwant %s", got, want)
	}
}
