package interceptor

import (
	"cmp"
	"context"
	"errors"
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
// the same loop, and the cursor.
type closerState struct {
	Namespace string
	Query     string
	Lag       time.Duration
	Cursor    cursor
}

// cursor is how far the closer got: every run closed at or before After has been
// closed, and of those closed after it, every one up to Done in scan order. It is the
// activity's result and its heartbeat, what a retry resumes from.
type cursor struct {
	After time.Time
	Done  scanProgress
}

// scanProgress is a run's place in scan order.
type scanProgress struct {
	CloseTime time.Time
	RunID     string
}

const (
	// activityRunsPerRun bounds the closer workflow's history: it continues as new after
	// this many activities (about 10 events each).
	activityRunsPerRun = 100
	// scanFor is how long one activity scans before it returns the cursor to the
	// workflow, which records it in history.
	scanFor = 10 * time.Minute
	// closerHeartbeatTimeout is the activity's heartbeat timeout; it heartbeats at least
	// every closerHeartbeatEvery. The SDK sends heartbeats at most every 80% of the
	// timeout, which bounds how far the recorded cursor can trail after a crash.
	closerHeartbeatTimeout = 20 * time.Second
	closerHeartbeatEvery   = 5 * time.Second
	// maxWindow bounds one scan after an outage: it closes at most this span of close
	// times, then scans again at once.
	maxWindow = time.Hour
	// listPageSize is the visibility page size.
	listPageSize = 1000
)

// errStopping ends a scan early because the worker is stopping.
var errStopping = errors.New("worker stopping")

// workflow is the closer workflow: run the scanning activity, record its cursor,
// repeat; continue as new now and then with the cursor.
func (cl *Closer) workflow(ctx workflow.Context, st closerState) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    closerHeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second,
			MaximumInterval: max(st.Lag/4, time.Second),
		},
	})
	for range activityRunsPerRun {
		if err := workflow.ExecuteActivity(ctx, CloserActivityName, st).Get(ctx, &st.Cursor); err != nil {
			return err
		}
	}
	return workflow.NewContinueAsNewError(ctx, CloserWorkflowName, st)
}

// closeRuns is the closer activity. For scanFor it scans every Lag/4, sending the final
// span of every run that closed past the cursor and at least Lag/2 ago without a final
// workflow task, in close-time order; then it returns the new cursor. It returns early,
// with the cursor exact, when its worker stops. A retry resumes from the last heartbeat
// the server recorded.
func (cl *Closer) closeRuns(ctx context.Context, st closerState) (cursor, error) {
	cur := st.Cursor
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &cur); err != nil {
			return cur, fmt.Errorf("interceptor: closer: read progress: %w", err)
		}
	}
	cl.opts.Logger.DebugContext(ctx, "interceptor: closer: scanning", "after", cur.After,
		"attempt", activity.GetInfo(ctx).Attempt)
	until := time.Now().Add(scanFor)
	scan := time.NewTicker(max(st.Lag/4, 250*time.Millisecond))
	defer scan.Stop()
	beat := time.NewTicker(closerHeartbeatEvery)
	defer beat.Stop()
	stopping := activity.GetWorkerStopChannel(ctx)
	for {
		behind, err := cl.scan(ctx, st, &cur, stopping)
		switch {
		case err != nil:
			return cur, nilIfStopping(err)
		case time.Now().After(until):
			return cur, nil
		case behind:
			continue
		}
		if err := waitScan(ctx, scan.C, beat.C, stopping, cur); err != nil {
			return cur, nilIfStopping(err)
		}
	}
}

// waitScan waits for the next scan, heartbeating meanwhile; errStopping if the worker
// stops first.
func waitScan(ctx context.Context, scan, beat <-chan time.Time, stopping <-chan struct{}, cur cursor) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stopping:
			return errStopping
		case <-beat:
			activity.RecordHeartbeat(ctx, cur)
		case <-scan:
			return nil
		}
	}
}

// nilIfStopping: a stopping worker ends the activity with its cursor, as a success.
func nilIfStopping(err error) error {
	if errors.Is(err, errStopping) {
		return nil
	}
	return err
}

// scan sends the spans of the runs closed in (cur.After, now-Lag/2] past cur.Done, and
// moves the cursor; behind is whether the window was cut short (maxWindow). It
// heartbeats the cursor after each visibility page and every BatchSize runs, once the
// tracer has been told to deliver their spans. It stops between runs, with errStopping,
// when stopping is closed.
func (cl *Closer) scan(ctx context.Context, st closerState, cur *cursor, stopping <-chan struct{}) (behind bool, err error) {
	hi := time.Now().Add(-st.Lag / 2).UTC().Truncate(time.Microsecond)
	if !hi.After(cur.After) {
		return false, nil
	}
	if hi.Sub(cur.After) > maxWindow {
		hi, behind = cur.After.Add(maxWindow), true
	}
	runs, err := cl.list(ctx, st.Namespace, closerQuery(st.Query, cur.After, hi), cur)
	if err != nil {
		return false, err
	}
	defer v2.Flush()
	batch := 0
	for _, r := range runs {
		p := scanProgress{CloseTime: r.GetCloseTime().AsTime(), RunID: r.GetExecution().GetRunId()}
		if !cur.Done.CloseTime.IsZero() && progressCmp(p, cur.Done) <= 0 {
			continue // exported before a retry
		}
		select {
		case <-stopping:
			return false, errStopping
		default:
		}
		if err := cl.closeRun(ctx, st.Namespace, r); err != nil {
			return false, err
		}
		cur.Done = p
		if batch++; batch == cl.opts.BatchSize {
			v2.Flush()
			activity.RecordHeartbeat(ctx, *cur)
			batch = 0
		}
	}
	cl.opts.Logger.DebugContext(ctx, "interceptor: closer: scanned", "after", cur.After, "until", hi, "runs", len(runs))
	*cur = cursor{After: hi}
	activity.RecordHeartbeat(ctx, *cur)
	return behind, nil
}

func progressCmp(a, b scanProgress) int {
	return cmp.Or(a.CloseTime.Compare(b.CloseTime), cmp.Compare(a.RunID, b.RunID))
}

// list returns the runs that match query, in close-time order. It heartbeats cur, the
// progress so far, after each page.
func (cl *Closer) list(ctx context.Context, namespace, query string, cur *cursor) ([]*workflowpb.WorkflowExecutionInfo, error) {
	var runs []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		resp, err := cl.c.WorkflowService().ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace:     namespace,
			PageSize:      listPageSize,
			NextPageToken: token,
			Query:         query,
		})
		if err != nil {
			return nil, fmt.Errorf("interceptor: closer: list closed runs (%s): %w", query, err)
		}
		runs = append(runs, resp.GetExecutions()...)
		activity.RecordHeartbeat(ctx, *cur)
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
