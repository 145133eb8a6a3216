package interceptor

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/DataDog/dd-trace-go/v2/ddtrace/ext"
	v2 "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
)

// activityInbound traces each attempt of an activity (local ones too) as RunActivity, a
// child of the workflow's StartActivity span. Activities are not replayed, so these are
// ordinary tracer spans with random ids, sent when the attempt ends.
type activityInbound struct {
	interceptor.ActivityInboundInterceptorBase
	root *Interceptor
}

func (a *activityInbound) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	o := &activityOutbound{}
	o.Next = outbound
	return a.Next.Init(o)
}

func (a *activityInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	start := info.StartedTime
	if start.IsZero() {
		start = time.Now()
	}
	opts := []v2.StartSpanOption{
		v2.StartTime(start),
		v2.ResourceName(info.ActivityType.Name),
		v2.Tag(ext.SpanKind, kindServer),
		v2.Tag(tagActivityID, info.ActivityID),
		v2.Tag(tagAttempt, info.Attempt),
	}
	parent, err := readHeader(interceptor.Header(ctx), a.root.opts.HeaderKey)
	if err != nil {
		slog.WarnContext(ctx, "interceptor: ignoring unreadable trace context in activity header",
			"activity_type", info.ActivityType.Name, "error", err)
	}
	if parent != nil {
		// The workflow's StartActivity span is the parent, under its RunWorkflow: the
		// workflow's ids and type are said there, the activity type by the resource.
		opts = append(opts, v2.ChildOf(parent))
		if id := runActivitySpanID(info); id != 0 { // the codec's spans find it by this
			opts = append(opts, v2.WithSpanID(id))
		}
	} else {
		opts = append(opts, v2.Tag(ext.Component, "temporal"), v2.Tag(tagWorkflowID, info.WorkflowExecution.ID),
			v2.Tag(tagRunID, info.WorkflowExecution.RunID), v2.Tag(tagWorkflowType, info.WorkflowType.Name))
	}
	if a.root.opts.ServiceName != "" {
		opts = append(opts, v2.ServiceName(a.root.opts.ServiceName))
	}
	span := v2.StartSpan(operationPrefix+"RunActivity", opts...)
	if span == nil {
		return a.Next.ExecuteActivity(ctx, in)
	}
	a.root.setTags(span, nil)
	ret, err := a.Next.ExecuteActivity(v2.ContextWithSpan(ctx, span), in)
	a.root.onFinish(span, err)
	span.Finish()
	return ret, err
}

// activityOutbound adds the trace to activity loggers.
type activityOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
}

func (o *activityOutbound) GetLogger(ctx context.Context) log.Logger {
	l := o.Next.GetLogger(ctx)
	if span, ok := v2.SpanFromContext(ctx); ok {
		sc := span.Context()
		return log.With(l, "dd.trace_id", strconv.FormatUint(sc.TraceIDLower(), 10), "dd.span_id", strconv.FormatUint(sc.SpanID(), 10))
	}
	return l
}
