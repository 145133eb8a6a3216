package interceptor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// DefaultCloseLag is the Lag of a zero CloserOptions.
const DefaultCloseLag = time.Minute

// MinCloseLag is the shortest Lag NewCloser accepts.
const MinCloseLag = time.Second

// closerStopTimeout is the WorkerStopTimeout of the worker Run starts.
const closerStopTimeout = 10 * time.Second

// DefaultCloserTaskQueue is the task queue of a zero CloserOptions.
const DefaultCloserTaskQueue = "longhaul-interceptor-closer"

// Names the closer registers its workflow and activity under. The interceptor does not
// trace them.
const (
	CloserWorkflowName = "longhaul.interceptor.Closer"
	CloserActivityName = "longhaul.interceptor.CloseRuns"
)

// CloserOptions configures a Closer. The zero value is ready to use for the namespace
// "default".
type CloserOptions struct {
	// Namespace is the namespace whose runs are closed, as in client.Options. Default:
	// "default", the client's default.
	Namespace string
	// Lag is the longest time from a run's close to its final span (plus the time a
	// scan takes): the closer scans every Lag/4 for runs closed at least Lag/2 before,
	// which leaves visibility Lag/2 to record the close. Default: DefaultCloseLag; at
	// least MinCloseLag.
	Lag time.Duration
	// Query, when set, narrows the runs to close with a visibility query, for example
	// "TaskQueue = 'migrations'": only runs traced by this interceptor should get a span.
	// It must not be ordered (no ORDER BY).
	Query string
	// Since is where the closer starts when it starts for the first time, to close runs
	// that ended before it ran. Default: Lag before the first scan.
	Since time.Time
	// TaskQueue is the task queue of the closer workflow. Default: DefaultCloserTaskQueue.
	TaskQueue string
	// WorkflowID is the id of the closer workflow, the one closer that runs per
	// namespace. Default: "longhaul-interceptor-closer-" and the Namespace.
	WorkflowID string
	// BatchSize is how many spans the closer exports between records of its progress
	// (see Closer). Default: 100.
	BatchSize int
	// Logger logs runs that cannot be closed. Default: slog.Default().
	Logger *slog.Logger
}

func (o CloserOptions) withDefaults() (CloserOptions, error) {
	o.Namespace = cmp.Or(o.Namespace, "default")
	o.TaskQueue = cmp.Or(o.TaskQueue, DefaultCloserTaskQueue)
	o.WorkflowID = cmp.Or(o.WorkflowID, "longhaul-interceptor-closer-"+o.Namespace)
	o.Logger = cmp.Or(o.Logger, slog.Default())
	if o.Lag == 0 {
		o.Lag = DefaultCloseLag
	}
	if o.BatchSize == 0 {
		o.BatchSize = 100
	}
	switch {
	case o.Lag < MinCloseLag:
		return o, fmt.Errorf("%w: closer Lag %s is below %s", ErrInvalidOptions, o.Lag, MinCloseLag)
	case o.BatchSize < 0:
		return o, fmt.Errorf("%w: closer BatchSize %d is negative", ErrInvalidOptions, o.BatchSize)
	case strings.Contains(strings.ToLower(o.Query), "order by"):
		return o, fmt.Errorf("%w: closer Query %q is ordered", ErrInvalidOptions, o.Query)
	}
	return o, nil
}

// Closer sends the final RunWorkflow span of runs that end without a final workflow
// task, which no worker can send: runs terminated (by an operator, a parent, or a
// reset), timed out, or canceled without a final task. The span has the ids the
// workers used, the run's real start and close times, the temporal.WorkflowStatus tag
// (terminated, timed_out or canceled), and the error (a *RunClosedError with the
// reason); it carries _dd.was_long_running=1 when the run lasted at least the
// interceptor's SnapshotInterval, as the worker's final span would. Runs that completed,
// failed or continued as new got their final span from the worker that ran their last
// workflow task, and get none from the closer.
//
// Everything comes from Temporal: visibility (runs by close time and status) and each
// run's first and last history event (the trace context in the start header, the
// reason). The closer is a workflow with one id per namespace, started with a conflict
// policy that keeps one running however many closers start it. Its activity runs on one
// closer at a time: it scans every Lag/4, exports in close-time order, heartbeats its
// cursor (close-time watermark and last run done), and after 10 minutes, or when its
// worker stops, returns the cursor, which the workflow records and carries on through
// continue-as-new. Closers are workers that host it: Run for a namespace, or Attach to
// an existing worker on the closer's task queue (give that worker a WorkerStopTimeout,
// as Run does, so a stopping closer hands its exact cursor over).
//
// Guarantees. While no closer process crashes (stopping and starting closers is fine),
// every such run whose close reaches visibility within Lag/2 gets its span handed to the
// tracer exactly once, in close-time order, within about Lag of its close; after an
// outage of all closers, as soon as one runs again (the cursor is durable). The closer
// flushes the tracer before each heartbeat that moves the cursor. If a closer process
// crashes, the activity is retried (after the 20 s heartbeat timeout) from the last
// heartbeat the server recorded, which trails the last one sent by at most 16 s (the
// SDK's heartbeat throttle): the spans exported in that interval are sent again. So:
// at least once for the runs in flight at a crash, exactly once for all others. A
// re-sent span is identical (same trace and span id, times, tags), so it can be
// recognized. As with any span, one the tracer has not yet delivered when its process
// dies is lost: tracer.Flush starts delivery but does not wait for the agent.
type Closer struct {
	ic   *Interceptor
	c    client.Client
	opts CloserOptions
}

// NewCloser returns a closer for the runs of opts.Namespace, exporting with the
// interceptor's options (service, tags, header key, OnFinish). c is used to start the
// closer workflow and to read visibility and history.
func (i *Interceptor) NewCloser(c client.Client, opts CloserOptions) (*Closer, error) {
	if c == nil {
		return nil, fmt.Errorf("interceptor: closer: %w: nil client", ErrInvalidOptions)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("interceptor: closer: %w", err)
	}
	return &Closer{ic: i, c: c, opts: opts}, nil
}

// Run runs a closer worker on the closer's task queue and keeps the closer workflow
// running until ctx is done. Run it in as many processes as you like: one closer
// workflow runs per namespace, and its activity runs on one of them at a time.
//
// Run first checks the Query with the server: a query visibility refuses is an error
// wrapping ErrInvalidOptions.
func (cl *Closer) Run(ctx context.Context) error {
	if err := cl.checkQuery(ctx); err != nil {
		return err
	}
	// The stop timeout lets the activity return its exact cursor when the worker stops.
	w := cl.Attach(worker.New(cl.c, cl.opts.TaskQueue, worker.Options{WorkerStopTimeout: closerStopTimeout}))
	if err := w.Start(); err != nil {
		return fmt.Errorf("interceptor: closer: start worker: %w", err)
	}
	<-ctx.Done()
	w.Stop()
	return nil
}

// checkQuery runs the scan's query once, on an empty window.
func (cl *Closer) checkQuery(ctx context.Context) error {
	now := time.Now()
	query := closerQuery(cl.opts.Query, now, now)
	_, err := cl.c.WorkflowService().ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: cl.opts.Namespace,
		PageSize:  1,
		Query:     query,
	})
	var invalid *serviceerror.InvalidArgument
	switch {
	case errors.As(err, &invalid):
		return fmt.Errorf("interceptor: closer: %w: Query %q: %s", ErrInvalidOptions, cl.opts.Query, invalid.Message)
	case err != nil:
		return fmt.Errorf("interceptor: closer: check query: %w", err)
	}
	return nil
}

// Attach registers the closer's workflow and activity on w, which must poll the
// closer's TaskQueue, and returns w with Start and Run that also keep the closer
// workflow running (checked every Lag) until the worker stops.
func (cl *Closer) Attach(w worker.Worker) worker.Worker {
	w.RegisterWorkflowWithOptions(cl.workflow, workflow.RegisterOptions{Name: CloserWorkflowName})
	w.RegisterActivityWithOptions(cl.closeRuns, activity.RegisterOptions{Name: CloserActivityName})
	return &closerWorker{Worker: w, cl: cl}
}

// closerWorker is a worker that keeps the closer workflow running while it runs.
type closerWorker struct {
	worker.Worker
	cl   *Closer
	stop context.CancelFunc
	done chan struct{}
}

func (w *closerWorker) Start() error {
	if err := w.Worker.Start(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.stop, w.done = cancel, make(chan struct{})
	go func() {
		defer close(w.done)
		w.cl.keepRunning(ctx)
	}()
	return nil
}

func (w *closerWorker) Run(interruptCh <-chan any) error {
	if err := w.Start(); err != nil {
		return err
	}
	<-interruptCh
	w.Stop()
	return nil
}

func (w *closerWorker) Stop() {
	if w.stop != nil {
		w.stop()
		<-w.done
	}
	w.Worker.Stop()
}

// keepRunning starts the closer workflow unless it runs, now and every Lag, until ctx
// is done.
func (cl *Closer) keepRunning(ctx context.Context) {
	t := time.NewTicker(cl.opts.Lag)
	defer t.Stop()
	for {
		if err := cl.ensure(ctx); err != nil && ctx.Err() == nil {
			cl.opts.Logger.WarnContext(ctx, "interceptor: closer workflow not started", "workflow_id", cl.opts.WorkflowID, "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ensure starts the closer workflow unless it is running. Starting uses the existing
// run if there is one, so closers racing to start it share one.
func (cl *Closer) ensure(ctx context.Context) error {
	d, err := cl.c.DescribeWorkflow(ctx, cl.opts.WorkflowID, "")
	if err == nil && d.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return nil
	}
	since := cl.opts.Since
	if since.IsZero() {
		since = time.Now().Add(-cl.opts.Lag)
	}
	_, err = cl.c.ExecuteWorkflow(untraced(ctx), client.StartWorkflowOptions{
		ID:                       cl.opts.WorkflowID,
		TaskQueue:                cl.opts.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, CloserWorkflowName, closerState{
		Namespace: cl.opts.Namespace,
		Query:     cl.opts.Query,
		Lag:       cl.opts.Lag,
		Cursor:    cursor{After: since.UTC().Truncate(time.Microsecond)},
	})
	if err != nil {
		return fmt.Errorf("interceptor: closer: start workflow %s: %w", cl.opts.WorkflowID, err)
	}
	return nil
}

// RunClosedError is the error of a final RunWorkflow span the closer sends: how the run
// ended without a final workflow task.
type RunClosedError struct {
	// Status is terminated, timed_out or canceled.
	Status string
	// Reason is what Temporal recorded: the termination reason, which timeout, or the
	// cancellation's details.
	Reason string
}

// Error implements error: "workflow <status>: <reason>".
func (e *RunClosedError) Error() string {
	if e.Reason == "" {
		return "workflow " + e.Status
	}
	return "workflow " + e.Status + ": " + e.Reason
}

type untracedKey struct{}

// untraced marks ctx so that the interceptor's client does not trace the call: the
// closer's own bookkeeping is not the application's.
func untraced(ctx context.Context) context.Context {
	return context.WithValue(ctx, untracedKey{}, true)
}

func isUntraced(ctx context.Context) bool { return ctx.Value(untracedKey{}) != nil }
