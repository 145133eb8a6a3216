package interceptor

import (
	"context"
	"log/slog"

	"github.com/DataDog/dd-trace-go/v2/ddtrace/ext"
	v2 "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	"github.com/nexus-rpc/sdk-go/nexus"
	"go.temporal.io/sdk/interceptor"
)

// nexusInbound traces Nexus operation handlers, as children of the workflow's
// StartNexusOperation span when the caller sent one in the Nexus header.
type nexusInbound struct {
	interceptor.NexusOperationInboundInterceptorBase
	root *Interceptor
}

func (n *nexusInbound) span(ctx context.Context, operation string, header nexus.Header) *v2.Span {
	info := nexus.ExtractHandlerInfo(ctx)
	opts := []v2.StartSpanOption{
		v2.ResourceName(info.Service + "/" + info.Operation),
		v2.Tag(ext.SpanKind, kindServer),
		v2.Tag(ext.Component, "temporal"),
	}
	parent, err := extract(header)
	if err != nil {
		slog.WarnContext(ctx, "interceptor: ignoring unreadable trace context in Nexus header", "error", err)
	}
	if parent != nil {
		opts = append(opts, v2.ChildOf(parent))
	}
	if n.root.opts.ServiceName != "" {
		opts = append(opts, v2.ServiceName(n.root.opts.ServiceName))
	}
	span := v2.StartSpan(operationPrefix+operation, opts...)
	if span != nil {
		n.root.setTags(span, nil)
	}
	return span
}

func (n *nexusInbound) StartOperation(ctx context.Context,
	in interceptor.NexusStartOperationInput) (nexus.HandlerStartOperationResult[any], error) {
	span := n.span(ctx, "RunStartNexusOperationHandler", in.Options.Header)
	if span == nil {
		return n.Next.StartOperation(ctx, in)
	}
	res, err := n.Next.StartOperation(v2.ContextWithSpan(ctx, span), in)
	n.root.onFinish(span, err)
	span.Finish()
	return res, err
}

func (n *nexusInbound) CancelOperation(ctx context.Context, in interceptor.NexusCancelOperationInput) error {
	span := n.span(ctx, "RunCancelNexusOperationHandler", in.Options.Header)
	if span == nil {
		return n.Next.CancelOperation(ctx, in)
	}
	err := n.Next.CancelOperation(v2.ContextWithSpan(ctx, span), in)
	n.root.onFinish(span, err)
	span.Finish()
	return err
}
