package interceptor

import (
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"
)

// workflowOutbound traces what workflow code does: each span lasts from the call to the
// result, in workflow time.
type workflowOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	st *workflowState
}

// start starts a span for an outbound call and injects it into the call's header, so
// the activity, child workflow or signal receiver continues the trace.
func (o *workflowOutbound) start(ctx workflow.Context, operation, resource, kind string) *wfSpan {
	s := o.st.startSpan(ctx, operationPrefix+operation, resource, kind)
	if err := writeHeader(interceptor.WorkflowHeader(ctx), o.st.root.opts.HeaderKey, s.ref().tracerContext()); err != nil {
		workflow.GetLogger(ctx).Warn("Trace context not propagated", "operation", operation, "error", err)
	}
	return s
}

// endWith ends s when f is ready, from a coroutine of its own: futures have no callback,
// and wrapping them would break workflow.Selector, which needs the SDK's own types. The
// coroutine issues no commands, so it does not change the workflow's behaviour.
func (o *workflowOutbound) endWith(ctx workflow.Context, f workflow.Future, s *wfSpan) {
	o.Next.Go(ctx, "datadog-trace", func(ctx workflow.Context) {
		s.end(ctx, f.Get(ctx, nil))
	})
}

// ExecuteActivity, ExecuteLocalActivity and ExecuteChildWorkflow pass on a context
// carrying their span: the SDK binds the data converter of the call's input and result
// to it, and the codec's tracer puts the store operations of those payloads under it.
func (o *workflowOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	s := o.start(ctx, "StartActivity", activityType, kindClient)
	f := o.Next.ExecuteActivity(contextWithSpan(ctx, s), activityType, args...)
	o.endWith(ctx, f, s)
	return f
}

func (o *workflowOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	s := o.start(ctx, "StartLocalActivity", activityType, kindClient)
	f := o.Next.ExecuteLocalActivity(contextWithSpan(ctx, s), activityType, args...)
	o.endWith(ctx, f, s)
	return f
}

func (o *workflowOutbound) ExecuteChildWorkflow(ctx workflow.Context, childWorkflowType string, args ...any) workflow.ChildWorkflowFuture {
	s := o.start(ctx, "StartChildWorkflow", childWorkflowType, kindClient)
	f := o.Next.ExecuteChildWorkflow(contextWithSpan(ctx, s), childWorkflowType, args...)
	o.endWith(ctx, f, s)
	return f
}

// NewTimer traces timers, workflow.Sleep's too: the SDK's Sleep calls NewTimer through
// the interceptor chain.
func (o *workflowOutbound) NewTimer(ctx workflow.Context, d time.Duration) workflow.Future {
	s := o.st.startSpan(ctx, operationPrefix+"Timer", d.String(), kindInternal)
	f := o.Next.NewTimer(ctx, d)
	o.endWith(ctx, f, s)
	return f
}

func (o *workflowOutbound) NewTimerWithOptions(ctx workflow.Context, d time.Duration, options workflow.TimerOptions) workflow.Future {
	resource := d.String()
	if options.Summary != "" {
		resource = options.Summary
	}
	s := o.st.startSpan(ctx, operationPrefix+"Timer", resource, kindInternal)
	f := o.Next.NewTimerWithOptions(ctx, d, options)
	o.endWith(ctx, f, s)
	return f
}

func (o *workflowOutbound) SignalExternalWorkflow(ctx workflow.Context, workflowID, runID, signalName string, arg any) workflow.Future {
	if o.st.root.opts.DisableSignalTracing {
		return o.Next.SignalExternalWorkflow(ctx, workflowID, runID, signalName, arg)
	}
	s := o.start(ctx, "SignalExternalWorkflow", signalName, kindProducer)
	s.tag("temporal.TargetWorkflowID", workflowID)
	f := o.Next.SignalExternalWorkflow(ctx, workflowID, runID, signalName, arg)
	o.endWith(ctx, f, s)
	return f
}

func (o *workflowOutbound) SignalChildWorkflow(ctx workflow.Context, workflowID, signalName string, arg any) workflow.Future {
	if o.st.root.opts.DisableSignalTracing {
		return o.Next.SignalChildWorkflow(ctx, workflowID, signalName, arg)
	}
	s := o.start(ctx, "SignalChildWorkflow", signalName, kindProducer)
	s.tag("temporal.TargetWorkflowID", workflowID)
	f := o.Next.SignalChildWorkflow(ctx, workflowID, signalName, arg)
	o.endWith(ctx, f, s)
	return f
}

func (o *workflowOutbound) ExecuteNexusOperation(ctx workflow.Context,
	input interceptor.ExecuteNexusOperationInput) workflow.NexusOperationFuture {
	operation := fmt.Sprint(input.Operation)
	if op, ok := input.Operation.(interface{ Name() string }); ok {
		operation = op.Name()
	}
	s := o.st.startSpan(ctx, operationPrefix+"StartNexusOperation", input.Client.Service()+"/"+operation, kindClient)
	s.tag("temporal.NexusEndpoint", input.Client.Endpoint())
	if err := writeNexusHeader(input.NexusHeader, s.ref().tracerContext()); err != nil {
		workflow.GetLogger(ctx).Warn("Trace context not propagated", "operation", "StartNexusOperation", "error", err)
	}
	f := o.Next.ExecuteNexusOperation(ctx, input)
	o.endWith(ctx, f, s)
	return f
}

// NewContinueAsNewError hands this run's RunWorkflow span to the next run twice: under
// the link key, where this interceptor finds it and starts a new trace that links to it,
// and under the header key, where contrib/datadog finds it (and makes it the parent).
func (o *workflowOutbound) NewContinueAsNewError(ctx workflow.Context, wfn any, args ...any) error {
	err := o.Next.NewContinueAsNewError(ctx, wfn, args...)
	header := interceptor.WorkflowHeader(ctx)
	run := o.st.run.ref().tracerContext()
	key := o.st.root.opts.HeaderKey
	for _, k := range []string{key + linkSuffix, key} {
		if werr := writeHeader(header, k, run); werr != nil {
			workflow.GetLogger(ctx).Warn("Trace context not propagated", "operation", "ContinueAsNew", "error", werr)
		}
	}
	return err
}

// GetLogger adds dd.trace_id and dd.span_id of the current span, the fields Datadog
// correlates logs with traces by (decimal, lower 64 bits of the trace id).
func (o *workflowOutbound) GetLogger(ctx workflow.Context) log.Logger {
	l := o.Next.GetLogger(ctx)
	s := spanFromContext(ctx)
	if s == nil {
		s = o.st.run
	}
	if !o.st.ready && s.trace == nil {
		return l
	}
	r := s.ref()
	return log.With(l, "dd.trace_id", strconv.FormatUint(r.traceLo, 10), "dd.span_id", strconv.FormatUint(r.spanID, 10))
}
