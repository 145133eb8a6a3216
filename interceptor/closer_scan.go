package interceptor

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	v2 "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// closerState is the closer workflow's input, carried through continue-as-new: the
// scan's settings, fixed by whoever started the workflow so that every worker replays
// the same loop, and the watermark.
type closerState struct {
	Namespace string
	Query     string
	Lag       time.Duration
	// After is the watermark: every run closed at or before it has been closed.
	After time.Time
}

// scanResult is what one scan returns: the new watermark, and whether it lags behind
// now by more than one window, so the next scan should start at once.
type scanResult struct {
	After  time.Time
	Behind bool
}

// scanProgress is the heartbeat of a scan: the last run exported, in scan order.
type scanProgress struct {
	CloseTime time.Time
	RunID     string
}

const (
	// scansPerRun bounds the closer workflow's history: it continues as new after this
	// many scans (about 12 events each).
	scansPerRun = 500
	// maxWindow bounds one scan after an outage: it closes at most this span of close
	// times, then the workflow scans again at once.
	maxWindow = time.Hour
	// listPageSize is the visibility page size.
	listPageSize = 1000
)

// workflow is the closer workflow: scan, wait Lag/2, repeat; continue as new now and
// then with the watermark.
func (cl *Closer) workflow(ctx workflow.Context, st closerState) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second,
			MaximumInterval: max(st.Lag, time.Second),
		},
	})
	for range scansPerRun {
		var res scanResult
		if err := workflow.ExecuteActivity(ctx, CloserActivityName, st).Get(ctx, &res); err != nil {
			return err
		}
		st.After = res.After
		if !res.Behind {
			if err := workflow.Sleep(ctx, st.Lag/2); err != nil {
				return err
			}
		}
	}
	return workflow.NewContinueAsNewError(ctx, CloserWorkflowName, st)
}

// closeRuns is the closer activity: it sends the final span of every run in the
// namespace that closed after st.After and at least Lag/2 ago without a final workflow
// task, in close-time order, and returns the new watermark.
func (cl *Closer) closeRuns(ctx context.Context, st closerState) (scanResult, error) {
	hi := time.Now().Add(-st.Lag / 2).UTC().Truncate(time.Microsecond)
	res := scanResult{After: st.After}
	if !hi.After(st.After) {
		return res, nil
	}
	if hi.Sub(st.After) > maxWindow {
		hi, res.Behind = st.After.Add(maxWindow), true
	}
	var done scanProgress
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &done); err != nil {
			return res, fmt.Errorf("interceptor: closer: read progress: %w", err)
		}
	}
	runs, err := cl.list(ctx, st, hi, done)
	if err != nil {
		return res, err
	}
	batch := 0
	for _, r := range runs {
		p := scanProgress{CloseTime: r.GetCloseTime().AsTime(), RunID: r.GetExecution().GetRunId()}
		if !done.CloseTime.IsZero() && progressCmp(p, done) <= 0 {
			continue // exported before a retry
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := cl.closeRun(ctx, st.Namespace, r); err != nil {
			return res, err
		}
		done = p
		if batch++; batch == cl.opts.BatchSize {
			// Progress is recorded only for spans the tracer has been told to deliver.
			v2.Flush()
			activity.RecordHeartbeat(ctx, done)
			batch = 0
		}
	}
	v2.Flush()
	res.After = hi
	return res, nil
}

func progressCmp(a, b scanProgress) int {
	return cmp.Or(a.CloseTime.Compare(b.CloseTime), cmp.Compare(a.RunID, b.RunID))
}

// list returns the runs to look at, closed in (st.After, hi] with a status that can
// mean no final task ran, in close-time order.
// It heartbeats done, the progress so far, after each page.
func (cl *Closer) list(ctx context.Context, st closerState, hi time.Time, done scanProgress) ([]*workflowpb.WorkflowExecutionInfo, error) {
	query := closerQuery(st.Query, st.After, hi)
	var runs []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		resp, err := cl.c.WorkflowService().ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace:     st.Namespace,
			PageSize:      listPageSize,
			NextPageToken: token,
			Query:         query,
		})
		if err != nil {
			return nil, fmt.Errorf("interceptor: closer: list closed runs (%s): %w", query, err)
		}
		runs = append(runs, resp.GetExecutions()...)
		activity.RecordHeartbeat(ctx, done)
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	slices.SortFunc(runs, func(a, b *workflowpb.WorkflowExecutionInfo) int {
		return progressCmp(
			scanProgress{a.GetCloseTime().AsTime(), a.GetExecution().GetRunId()},
			scanProgress{b.GetCloseTime().AsTime(), b.GetExecution().GetRunId()})
	})
	return runs, nil
}

// closerQuery is the visibility query of one scan. Completed, failed and
// continued-as-new runs always end with a workflow task, whose worker sent the span.
func closerQuery(filter string, after, hi time.Time) string {
	q := fmt.Sprintf("ExecutionStatus IN ('Terminated', 'TimedOut', 'Canceled') AND CloseTime > '%s' AND CloseTime <= '%s'"+
		" AND WorkflowType != '%s'", after.Format(time.RFC3339Nano), hi.Format(time.RFC3339Nano), CloserWorkflowName)
	if filter != "" {
		q += " AND (" + filter + ")"
	}
	return q
}
