package interceptor

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/DataDog/dd-trace-go/v2/ddtrace/ext"
	v2 "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"
	"gopkg.in/DataDog/dd-trace-go.v1/ddtrace/tracer"
)

// Interceptor traces Temporal clients and workers with Datadog. It implements
// interceptor.ClientInterceptor and interceptor.WorkerInterceptor: put it in
// client.Options.Interceptors (workers made from that client get it too) or in
// worker.Options.Interceptors. It is safe for concurrent use.
type Interceptor struct {
	interceptor.InterceptorBase
	opts Options
	// bits128 is whether trace ids of new traces get 128 bits, as the tracer's own do.
	bits128 bool
	// describer is the client the interceptor was installed on, if any: snapshots ask
	// it whether a run is still open (see runOpen).
	describer atomic.Pointer[describer]
	// batch groups workflow spans into chunks.
	batch *batcher
}

// describer is the one client call snapshots need.
type describer interface {
	DescribeWorkflow(context.Context, *interceptor.ClientDescribeWorkflowInput) (*interceptor.ClientDescribeWorkflowOutput, error)
}

var (
	_ interceptor.ClientInterceptor = (*Interceptor)(nil)
	_ interceptor.WorkerInterceptor = (*Interceptor)(nil)
)

// New returns an Interceptor. The zero Options are the defaults.
func New(opts Options) (*Interceptor, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("interceptor: %w", err)
	}
	bits128 := true
	if v, err := strconv.ParseBool(os.Getenv("DD_TRACE_128_BIT_TRACEID_GENERATION_ENABLED")); err == nil {
		bits128 = v
	}
	i := &Interceptor{opts: opts, bits128: bits128}
	i.batch = &batcher{root: i}
	return i, nil
}

// InterceptClient implements interceptor.ClientInterceptor.
func (i *Interceptor) InterceptClient(next interceptor.ClientOutboundInterceptor) interceptor.ClientOutboundInterceptor {
	c := &clientOutbound{root: i}
	c.Next = next
	var d describer = next
	i.describer.CompareAndSwap(nil, &d)
	return c
}

// InterceptActivity implements interceptor.WorkerInterceptor.
func (i *Interceptor) InterceptActivity(ctx context.Context,
	next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	if activity.GetInfo(ctx).ActivityType.Name == CloserActivityName {
		return next // the closer's own work is not the application's
	}
	a := &activityInbound{root: i}
	a.Next = next
	return a
}

// InterceptWorkflow implements interceptor.WorkerInterceptor. It is called once for
// every instance of a workflow execution a worker builds: at first sight, and again
// after each eviction from the cache.
func (i *Interceptor) InterceptWorkflow(ctx workflow.Context,
	next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	info := workflow.GetInfo(ctx)
	if info.WorkflowType.Name == CloserWorkflowName {
		return next
	}
	w := &workflowInbound{state: newWorkflowState(i, info)}
	w.Next = next
	return w
}

// InterceptNexusOperation implements interceptor.WorkerInterceptor.
func (i *Interceptor) InterceptNexusOperation(ctx context.Context,
	next interceptor.NexusOperationInboundInterceptor) interceptor.NexusOperationInboundInterceptor {
	n := &nexusInbound{root: i}
	n.Next = next
	return n
}

// Span kinds, the span.kind tag.
const (
	kindClient   = ext.SpanKindClient
	kindServer   = ext.SpanKindServer
	kindInternal = ext.SpanKindInternal
	kindConsumer = ext.SpanKindConsumer
	kindProducer = ext.SpanKindProducer
)

// operationPrefix names spans like contrib/datadog does: temporal.RunWorkflow etc.
const operationPrefix = "temporal."

// spanData is a span to send to the tracer in one go: workflow spans are only records
// until they end, so they are built, finished and sent at once with the ids and times
// from history.
type spanData struct {
	operation string // full name, e.g. temporal.RunWorkflow
	resource  string
	kind      string
	// ref is the span's own trace and span id. parentID 0 makes a root span.
	ref      spanRef
	parentID uint64
	start    time.Time
	end      time.Time
	tags     map[string]any
	links    []v2.SpanLink
	err      error
	// runEnded is set for a workflow span that ends after its RunWorkflow span.
	runEnded bool
}

// send builds the span, finishes it and hands it to the tracer. OnFinish (or the
// default error tagging) runs first unless partial is set. Final spans other than
// RunWorkflow wait to be sent with others of their parent (see batcher); RunWorkflow
// sends its run's waiting spans first, and a span that ends after it (a coroutine that
// ran last) goes at once. A span sent alone, its parent not in this process, is a chunk
// of its own.
func (i *Interceptor) send(d *spanData, partial bool) {
	if !partial {
		switch {
		case d.operation == operationPrefix+"RunWorkflow":
			i.batch.flushTrace(d.ref.traceHi, d.ref.traceLo)
		case !d.runEnded:
			i.batch.add(d)
			return
		}
	}
	parent := d.ref
	parent.spanID = d.parentID
	span := i.start(d, parent.tracerContext(), false)
	if span == nil { // tracer disabled
		return
	}
	if !partial {
		i.onFinish(span, d.err)
	}
	span.Finish(v2.FinishTime(d.end))
}

// start starts the tracer span of d as a child of parent, with its tags; measured
// marks a span that is not the first of its chunk (see sendGroup). Nil when the tracer
// is disabled.
func (i *Interceptor) start(d *spanData, parent *v2.SpanContext, measured bool) *v2.Span {
	opts := []v2.StartSpanOption{
		v2.ChildOf(parent),
		v2.WithSpanID(d.ref.spanID),
		v2.StartTime(d.start),
		v2.ResourceName(d.resource),
	}
	opts = appendKind(opts, d.kind, d.operation == operationPrefix+"RunWorkflow" || d.parentID == 0)
	if measured {
		opts = append(opts, v2.Measured())
	}
	if i.opts.ServiceName != "" {
		opts = append(opts, v2.ServiceName(i.opts.ServiceName))
	}
	if len(d.links) > 0 {
		opts = append(opts, v2.WithSpanLinks(d.links))
	}
	span := v2.StartSpan(d.operation, opts...)
	if span != nil {
		i.setTags(span, d.tags)
	}
	return span
}

func (i *Interceptor) setTags(span *v2.Span, tags map[string]any) {
	for k, v := range i.opts.Tags {
		span.SetTag(k, v)
	}
	for k, v := range tags {
		span.SetTag(k, v)
	}
}

func (i *Interceptor) onFinish(span *v2.Span, err error) {
	if i.opts.OnFinish != nil {
		i.opts.OnFinish(tracer.WrapSpanV2(span), err)
		return
	}
	tagError(span, err)
}

// appendKind adds span.kind, unless internal (what a span without it means), and the
// component for a span that starts Temporal's part of a trace (RunWorkflow, a root):
// below it every span is Temporal's, and saying so again on each costs bytes per span.
func appendKind(opts []v2.StartSpanOption, kind string, entry bool) []v2.StartSpanOption {
	if kind != kindInternal {
		opts = append(opts, v2.Tag(ext.SpanKind, kind))
	}
	if entry {
		opts = append(opts, v2.Tag(ext.Component, "temporal"))
	}
	return opts
}

// newTraceRef returns the ids of a new trace whose root span is spanID, with the upper
// 64 bits in the tracer's own layout (32 bits of start time in seconds, then zeros).
func (i *Interceptor) newTraceRef(traceLo, spanID uint64, start time.Time) spanRef {
	r := spanRef{traceLo: traceLo, spanID: spanID}
	if i.bits128 {
		r.traceHi = uint64(uint32(start.Unix())) << 32
	}
	return r
}
