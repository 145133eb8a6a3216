package interceptor

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/DataDog/dd-trace-go/v2/ddtrace/ext"
	v2 "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// Codec span names, tags and metrics.
const (
	codecOperationPrefix = "longhaul."
	tagCodecDigestPrefix = "longhaul." // + the hash: longhaul.blake3, longhaul.sha256
	tagCodecCompression  = "longhaul.compression"
	tagCodecDedupeHit    = "longhaul.dedupe_hit"
	metricCodecBytes     = "longhaul.bytes"
	metricCodecStored    = "longhaul.stored_bytes"
	metricCodecStoreMs   = "longhaul.store_latency_ms"
)

// CodecTracer returns a codec.Tracer (for codec.Options.Tracer) that sends each store
// operation of the codec to Datadog as a span, longhaul.offload or longhaul.fetch, with
// the store as resource and metrics longhaul.bytes (serialized payload),
// longhaul.stored_bytes (blob), longhaul.store_latency_ms and tags longhaul.blake3 (or
// longhaul.sha256 for a v1 blob: the address, named by its hash),
// longhaul.compression, longhaul.dedupe_hit (offloads), and the error.
//
// The span goes where the operation happened, from what the SDK hands the codec:
//   - in workflow code, under the span of the workflow context the data converter is
//     bound to: an activity's input and result under its StartActivity span, a child
//     workflow's under StartChildWorkflow, else RunWorkflow or a StartSpan span;
//   - in an activity (its input, decoded before the attempt starts, and its result,
//     encoded after it ends), under the attempt's RunActivity span, whose id is derived
//     from the attempt for that (see runActivitySpanID); local activities under
//     StartLocalActivity;
//   - in code with a tracer span in its context (a client call, activity code), under
//     that span.
//
// Where the SDK gives no span (a workflow's own input and result, a run not traced, a
// plain PayloadCodec call), the span is a trace of its own tagged with the workflow id,
// run id and activity id that are known, so Datadog correlates it by them.
func (i *Interceptor) CodecTracer() codec.Tracer { return codecTracer{i} }

type codecTracer struct{ root *Interceptor }

// opSpanKey holds the operation's span in the context StartOp returns: EndOp finishes
// that one, never a span of the caller's.
type opSpanKey struct{}

// StartOp implements codec.Tracer.
func (t codecTracer) StartOp(ctx context.Context, op *codec.Op) context.Context {
	opts := make([]v2.StartSpanOption, 0, 8)
	opts = append(opts, v2.ResourceName(op.Store), v2.Tag(ext.SpanKind, kindClient))
	opts = t.place(ctx, op.Scope, opts)
	if t.root.opts.ServiceName != "" {
		opts = append(opts, v2.ServiceName(t.root.opts.ServiceName))
	}
	span := v2.StartSpan(codecOperationPrefix+string(op.Kind), opts...)
	if span == nil { // tracer disabled
		return ctx
	}
	t.root.setTags(span, nil)
	return context.WithValue(v2.ContextWithSpan(ctx, span), opSpanKey{}, span)
}

// EndOp implements codec.Tracer.
func (t codecTracer) EndOp(ctx context.Context, op *codec.Op) {
	span, _ := ctx.Value(opSpanKey{}).(*v2.Span)
	if span == nil {
		return
	}
	if op.Digest != "" {
		span.SetTag(tagCodecDigestPrefix+op.Algorithm, op.Digest)
	}
	if op.Compression != "" {
		span.SetTag(tagCodecCompression, string(op.Compression))
	}
	if op.Kind == codec.OpOffload {
		span.SetTag(tagCodecDedupeHit, op.DedupeHit)
	}
	span.SetTag(metricCodecBytes, op.Bytes)
	span.SetTag(metricCodecStored, op.StoredBytes)
	span.SetTag(metricCodecStoreMs, float64(op.StoreLatency.Microseconds())/1000)
	t.root.onFinish(span, op.Err)
	span.Finish()
}

// place appends the parent of an operation's span, or the tags that correlate it when
// there is no parent to be had.
func (t codecTracer) place(ctx context.Context, sc codec.Scope, opts []v2.StartSpanOption) []v2.StartSpanOption {
	if sc.Workflow != nil {
		if s := spanFromContext(sc.Workflow); s != nil && (s.st.ready || s.trace != nil) {
			return append(opts, v2.ChildOf(s.ref().tracerContext()))
		}
		info := workflow.GetInfo(sc.Workflow)
		return append(opts, v2.Tag(tagWorkflowID, info.WorkflowExecution.ID), v2.Tag(tagRunID, info.WorkflowExecution.RunID))
	}
	if span, ok := v2.SpanFromContext(ctx); ok && span != nil {
		return append(opts, v2.ChildOf(span.Context()))
	}
	if activity.IsActivity(ctx) {
		return t.placeInActivity(ctx, opts)
	}
	switch c := sc.Serialization.(type) {
	case converter.WorkflowSerializationContext:
		opts = append(opts, v2.Tag(tagWorkflowID, c.WorkflowID))
	case converter.ActivitySerializationContext:
		opts = append(opts, v2.Tag(tagWorkflowID, c.WorkflowID), v2.Tag(tagActivityType, c.ActivityType))
	}
	return opts
}

// placeInActivity puts an operation of an activity's data converter under the
// attempt's RunActivity span, found from the activity's header and info alone: the SDK
// decodes the input before the interceptor runs and encodes the result after it
// returns, with a context that does not carry the span.
func (t codecTracer) placeInActivity(ctx context.Context, opts []v2.StartSpanOption) []v2.StartSpanOption {
	info := activity.GetInfo(ctx)
	parent, err := readHeader(interceptor.Header(ctx), t.root.opts.HeaderKey)
	if err != nil {
		slog.WarnContext(ctx, "interceptor: ignoring unreadable trace context in activity header",
			"activity_type", info.ActivityType.Name, "error", err)
	}
	if parent == nil {
		return append(opts, v2.Tag(tagWorkflowID, info.WorkflowExecution.ID), v2.Tag(tagRunID, info.WorkflowExecution.RunID),
			v2.Tag(tagActivityID, info.ActivityID))
	}
	if id := runActivitySpanID(info); id != 0 {
		r := refFromTracer(parent)
		r.spanID = id
		return append(opts, v2.ChildOf(r.tracerContext()))
	}
	return append(opts, v2.ChildOf(parent), v2.Tag(tagActivityID, info.ActivityID), v2.Tag(tagAttempt, info.Attempt))
}

// runActivitySpanID is the span id of an activity attempt's RunActivity span, derived
// from the attempt (run, activity id, attempt and its start time from the server), so
// the codec's operations outside the attempt can name it as their parent; 0 for
// attempts that keep a random id: local activities (which may run again with the same
// number when their workflow task fails) and activities outside a workflow.
func runActivitySpanID(info activity.Info) uint64 {
	if info.IsLocalActivity || info.WorkflowExecution.RunID == "" || info.StartedTime.IsZero() {
		return 0
	}
	return hashID("activity", info.WorkflowNamespace, info.WorkflowExecution.RunID, info.ActivityID,
		strconv.FormatInt(int64(info.Attempt), 10), strconv.FormatInt(info.StartedTime.UnixNano(), 10))
}
