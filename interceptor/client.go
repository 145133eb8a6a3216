package interceptor

import (
	"context"
	"log/slog"

	"github.com/DataDog/dd-trace-go/v2/ddtrace/ext"
	v2 "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
)

// clientOutbound traces client calls that reach workflows, as children of the span in
// the caller's context, and injects their span context into the request header.
type clientOutbound struct {
	interceptor.ClientOutboundInterceptorBase
	root *Interceptor
}

// start starts a client span and writes it to the header of the call ctx is for.
func (c *clientOutbound) start(ctx context.Context, operation, resource, workflowID string) (*v2.Span, context.Context) {
	if isUntraced(ctx) {
		return nil, ctx
	}
	opts := []v2.StartSpanOption{
		v2.ResourceName(resource),
		v2.Tag(ext.SpanKind, kindClient),
		v2.Tag(ext.Component, "temporal"),
	}
	if workflowID != "" {
		opts = append(opts, v2.Tag(tagWorkflowID, workflowID))
	}
	if c.root.opts.ServiceName != "" {
		opts = append(opts, v2.ServiceName(c.root.opts.ServiceName))
	}
	span, ctx := v2.StartSpanFromContext(ctx, operationPrefix+operation, opts...)
	if span == nil { // tracer disabled
		return nil, ctx
	}
	c.root.setTags(span, nil)
	if err := writeHeader(interceptor.Header(ctx), c.root.opts.HeaderKey, span.Context()); err != nil {
		slog.WarnContext(ctx, "interceptor: trace context not propagated", "operation", operation, "error", err)
	}
	return span, ctx
}

func (c *clientOutbound) finish(span *v2.Span, err error) {
	if span == nil {
		return
	}
	c.root.onFinish(span, err)
	span.Finish()
}

func (c *clientOutbound) ExecuteWorkflow(ctx context.Context, in *interceptor.ClientExecuteWorkflowInput) (client.WorkflowRun, error) {
	span, ctx := c.start(ctx, "StartWorkflow", in.WorkflowType, in.Options.ID)
	run, err := c.Next.ExecuteWorkflow(ctx, in)
	if span != nil && run != nil {
		span.SetTag(tagRunID, run.GetRunID())
	}
	c.finish(span, err)
	return run, err
}

func (c *clientOutbound) SignalWorkflow(ctx context.Context, in *interceptor.ClientSignalWorkflowInput) error {
	if c.root.opts.DisableSignalTracing {
		return c.Next.SignalWorkflow(ctx, in)
	}
	span, ctx := c.start(ctx, "SignalWorkflow", in.SignalName, in.WorkflowID)
	err := c.Next.SignalWorkflow(ctx, in)
	c.finish(span, err)
	return err
}

// SignalWithStartWorkflow is traced even with DisableSignalTracing: it starts workflows,
// whose RunWorkflow spans need the header.
func (c *clientOutbound) SignalWithStartWorkflow(ctx context.Context,
	in *interceptor.ClientSignalWithStartWorkflowInput) (client.WorkflowRun, error) {
	span, ctx := c.start(ctx, "SignalWithStartWorkflow", in.WorkflowType, in.Options.ID)
	run, err := c.Next.SignalWithStartWorkflow(ctx, in)
	c.finish(span, err)
	return run, err
}

func (c *clientOutbound) QueryWorkflow(ctx context.Context, in *interceptor.ClientQueryWorkflowInput) (converter.EncodedValue, error) {
	if c.root.opts.DisableQueryTracing {
		return c.Next.QueryWorkflow(ctx, in)
	}
	span, ctx := c.start(ctx, "QueryWorkflow", in.QueryType, in.WorkflowID)
	v, err := c.Next.QueryWorkflow(ctx, in)
	c.finish(span, err)
	return v, err
}

func (c *clientOutbound) UpdateWorkflow(ctx context.Context,
	in *interceptor.ClientUpdateWorkflowInput) (client.WorkflowUpdateHandle, error) {
	if c.root.opts.DisableUpdateTracing {
		return c.Next.UpdateWorkflow(ctx, in)
	}
	span, ctx := c.start(ctx, "UpdateWorkflow", in.UpdateName, in.WorkflowID)
	if span != nil && in.UpdateID != "" {
		span.SetTag(tagUpdateID, in.UpdateID)
	}
	h, err := c.Next.UpdateWorkflow(ctx, in)
	c.finish(span, err)
	return h, err
}

func (c *clientOutbound) UpdateWithStartWorkflow(ctx context.Context,
	in *interceptor.ClientUpdateWithStartWorkflowInput) (client.WorkflowUpdateHandle, error) {
	if c.root.opts.DisableUpdateTracing {
		return c.Next.UpdateWithStartWorkflow(ctx, in)
	}
	span, ctx := c.start(ctx, "UpdateWithStartWorkflow", in.UpdateOptions.UpdateName, in.UpdateOptions.WorkflowID)
	if span != nil && in.UpdateOptions.UpdateID != "" {
		span.SetTag(tagUpdateID, in.UpdateOptions.UpdateID)
	}
	h, err := c.Next.UpdateWithStartWorkflow(ctx, in)
	c.finish(span, err)
	return h, err
}
