package interceptor_test

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"gopkg.in/DataDog/dd-trace-go.v1/ddtrace/tracer"

	"github.com/seed-a62fcf0e/longhaul/interceptor"
)

func registerAll(w worker.Registry) {
	w.RegisterWorkflow(scenarioWorkflow)
	w.RegisterWorkflow(childWorkflow)
	w.RegisterWorkflow(waitWorkflow)
	w.RegisterWorkflow(handlersWorkflow)
	w.RegisterWorkflow(failingWorkflow)
	w.RegisterWorkflow(activitiesWorkflow)
	w.RegisterWorkflow(userSpanWorkflow)
	w.RegisterWorkflow(localActivityWorkflow)
	w.RegisterWorkflow(signalerWorkflow)
	w.RegisterWorkflow(blockingWorkflow)
	w.RegisterWorkflow(slowValidatorWorkflow)
	w.RegisterWorkflow(openWorkflow)
	w.RegisterActivity(stepActivity)
	w.RegisterActivity(failActivity)
	w.RegisterActivity(blockActivity)
}

var activityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
}

func stepActivity(ctx context.Context, name string) (string, error) {
	activity.GetLogger(ctx).Info("step", "name", name)
	return name, nil
}

func failActivity(ctx context.Context) error {
	return temporal.NewApplicationError("disk full", "DiskFull")
}

// scenarioWorkflow is the acceptance scenario. Round 0: an activity, then it waits for
// the "go" signal (meanwhile it answers a query and an update), a 3 s timer, a child
// workflow, a second activity, and continue-as-new. Round 1: one activity.
func scenarioWorkflow(ctx workflow.Context, round int) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	if round > 0 {
		var out string
		err := workflow.ExecuteActivity(ctx, stepActivity, "final").Get(ctx, &out)
		return out, err
	}
	if err := workflow.SetQueryHandler(ctx, "progress", func() (string, error) { return "waiting", nil }); err != nil {
		return "", err
	}
	bumps := 0
	if err := workflow.SetUpdateHandlerWithOptions(ctx, "bump", func(ctx workflow.Context, n int) (int, error) {
		bumps += n
		return bumps, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, n int) error {
		if n <= 0 {
			return errors.New("n must be positive")
		}
		return nil
	}}); err != nil {
		return "", err
	}
	if err := workflow.ExecuteActivity(ctx, stepActivity, "one").Get(ctx, nil); err != nil {
		return "", err
	}
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, nil)
	if err := workflow.NewTimer(ctx, 3*time.Second).Get(ctx, nil); err != nil {
		return "", err
	}
	if err := workflow.ExecuteChildWorkflow(ctx, childWorkflow).Get(ctx, nil); err != nil {
		return "", err
	}
	if err := workflow.ExecuteActivity(ctx, stepActivity, "two").Get(ctx, nil); err != nil {
		return "", err
	}
	return "", workflow.NewContinueAsNewError(ctx, scenarioWorkflow, round+1)
}

func childWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	return workflow.ExecuteActivity(ctx, stepActivity, "child").Get(ctx, nil)
}

// waitWorkflow sleeps for d and logs.
func waitWorkflow(ctx workflow.Context, d time.Duration) error {
	workflow.GetLogger(ctx).Info("waiting", "d", d)
	return workflow.Sleep(ctx, d)
}

// handlersWorkflow has a signal, a query and an update, and ends on the "done" signal,
// or canceled.
func handlersWorkflow(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, "state", func() (string, error) { return "ok", nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, "set", func(ctx workflow.Context, v string) (string, error) { return v, nil }); err != nil {
		return err
	}
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(workflow.GetSignalChannel(ctx, "done"), func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
	sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
	sel.Select(ctx)
	return ctx.Err()
}

// failingWorkflow runs a failing activity, then fails itself with its error.
func failingWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	return workflow.ExecuteActivity(ctx, failActivity).Get(ctx, nil)
}

// activitiesWorkflow runs n activities one after another (the benchmark's workload).
func activitiesWorkflow(ctx workflow.Context, n int) error {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	for i := 0; i < n; i++ {
		if err := workflow.ExecuteActivity(ctx, stepActivity, "x").Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// userSpanWorkflow wraps an activity and a timer in a span of its own.
func userSpanWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	span, spanCtx := interceptor.StartSpan(ctx, "migrate.batch", tracer.ResourceName("batch-1"), tracer.Tag("rows", 1000))
	if cur, ok := interceptor.SpanFromWorkflowContext(spanCtx); !ok || cur.Context().SpanID() != span.Context().SpanID() {
		return errors.New("SpanFromWorkflowContext does not return the span StartSpan started")
	}
	err := workflow.ExecuteActivity(spanCtx, stepActivity, "batch").Get(spanCtx, nil)
	if err == nil {
		err = workflow.Sleep(spanCtx, 100*time.Millisecond)
	}
	span.Finish(tracer.WithError(err))
	return err
}

// localActivityWorkflow runs a local activity.
func localActivityWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	return workflow.ExecuteLocalActivity(ctx, stepActivity, "local").Get(ctx, nil)
}

// signalerWorkflow signals another workflow.
func signalerWorkflow(ctx workflow.Context, target string) error {
	return workflow.SignalExternalWorkflow(ctx, target, "", "done", nil).Get(ctx, nil)
}

// blockActivity waits for d or until it is canceled.
func blockActivity(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// blockingWorkflow runs an activity that takes d.
func blockingWorkflow(ctx workflow.Context, d time.Duration) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: d + time.Minute})
	return workflow.ExecuteActivity(ctx, blockActivity, d).Get(ctx, nil)
}

// slowValidations makes the next that many validations of the "slow" update of
// slowValidatorWorkflow sleep for slowValidation first.
var (
	slowValidations atomic.Int32
	slowValidation  time.Duration
)

// slowValidatorWorkflow accepts "slow" updates, whose validator can be made to block
// (slowValidations), and ends on the "done" signal.
func slowValidatorWorkflow(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, "slow", func(ctx workflow.Context, v string) (string, error) {
		return v, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, v string) error {
		if slowValidations.Add(-1) >= 0 {
			time.Sleep(slowValidation) // past the workflow task timeout: this task will not count
		}
		return nil
	}}); err != nil {
		return err
	}
	workflow.GetSignalChannel(ctx, "done").Receive(ctx, nil)
	return nil
}
