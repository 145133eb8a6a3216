package interceptor

import (
	"context"
	"maps"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"
)

// describeTimeout bounds the check whether a run is still open.
const describeTimeout = 10 * time.Second

// startSnapshots starts re-sending copies of the RunWorkflow span while this instance
// of the workflow lives on this worker (Options.SnapshotInterval); the returned
// function stops them and waits until no copy is in flight. It is idempotent.
//
// A copy has the ids and start of the final span, ends now, and carries
// _dd.partial_version: the milliseconds since the workflow started, so versions keep
// increasing when the workflow moves to another worker, which starts counting afresh.
//
// Copies stop for good once the run is closed (runOpen): a run terminated or timed out
// stays in the worker's cache, never to run again, and its final span comes from the
// closer; no copy may follow it.
func (st *workflowState) startSnapshots() (stop func()) {
	iv := st.root.opts.SnapshotInterval
	if iv <= 0 {
		return func() {}
	}
	// A copy of the span as it is now: the goroutine must not share the record with
	// workflow code.
	base := *st.run.data(st.run.start, nil)
	base.tags = maps.Clone(base.tags)
	info := *st.info
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(iv)
		defer t.Stop()
		var version int64
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if !st.root.runOpen(ctx, &info, now) {
					return
				}
				version = max(version+1, now.Sub(base.start).Milliseconds())
				d := base
				d.end = now
				d.tags = maps.Clone(base.tags)
				if d.tags == nil {
					d.tags = map[string]any{}
				}
				d.tags[metricPartialVersion] = float64(version)
				st.root.send(&d, true)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel() // also ends a check in flight: workflow code waits for this
			<-exited
		})
	}
}

// runOpen reports whether a run may still be open at now: false once its run timeout
// has passed, or once the client the interceptor was installed on (if any) reports it
// closed. Whatever the check cannot decide (no client, an error, a run in another
// namespace than the client's) counts as open.
func (i *Interceptor) runOpen(ctx context.Context, info *workflow.Info, now time.Time) bool {
	if rt := info.WorkflowRunTimeout; rt > 0 && !now.Before(info.WorkflowStartTime.Add(rt)) {
		return false
	}
	d := i.describer.Load()
	if d == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	out, err := (*d).DescribeWorkflow(ctx, &interceptor.ClientDescribeWorkflowInput{
		WorkflowID: info.WorkflowExecution.ID,
		RunID:      info.WorkflowExecution.RunID,
	})
	if err != nil || out == nil || out.Response == nil {
		return true
	}
	return out.Response.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}
