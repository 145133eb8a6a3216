package interceptor

import (
	"encoding/binary"
	"encoding/hex"

	v2 "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	"gopkg.in/DataDog/dd-trace-go.v1/ddtrace"
)

// spanRef identifies a span by id. Workflow spans exist only as spanRefs until they are
// exported, so children are parented by id rather than through a live tracer span.
type spanRef struct {
	traceHi, traceLo uint64
	spanID           uint64
	// priority is the sampling priority decided upstream (the client's trace), if known;
	// every span of the workflow carries it so all chunks of the trace agree.
	priority *float64
}

func (r spanRef) traceIDBytes() [16]byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], r.traceHi)
	binary.BigEndian.PutUint64(b[8:], r.traceLo)
	return b
}

// tracerContext returns r as a tracer span context, for ChildOf and Inject.
func (r spanRef) tracerContext() *v2.SpanContext {
	return v2.FromGenericCtx(genericContext{r})
}

// refFromTracer converts a span context of the tracer to a spanRef.
func refFromTracer(sc *v2.SpanContext) spanRef {
	b := sc.TraceIDBytes()
	r := spanRef{
		traceHi: binary.BigEndian.Uint64(b[:8]),
		traceLo: binary.BigEndian.Uint64(b[8:]),
		spanID:  sc.SpanID(),
	}
	if p, ok := sc.SamplingPriority(); ok {
		f := float64(p)
		r.priority = &f
	}
	return r
}

// genericContext lets the tracer build a span context from a spanRef
// (v2.FromGenericCtx). Besides the ids it has the methods FromGenericCtx looks for to
// carry the sampling priority.
type genericContext struct{ r spanRef }

func (c genericContext) SpanID() uint64                            { return c.r.spanID }
func (c genericContext) TraceID() string                           { b := c.r.traceIDBytes(); return hex.EncodeToString(b[:]) }
func (c genericContext) TraceIDBytes() [16]byte                    { return c.r.traceIDBytes() }
func (c genericContext) TraceIDLower() uint64                      { return c.r.traceLo }
func (c genericContext) ForeachBaggageItem(func(k, v string) bool) {}
func (c genericContext) SamplingDecision() uint32                  { return 0 }
func (c genericContext) Origin() string                            { return "" }
func (c genericContext) PropagatingTags() map[string]string        { return map[string]string{} }
func (c genericContext) Tags() map[string]string                   { return map[string]string{} }

// Priority returns a copy: the tracer writes through the pointer it is given.
func (c genericContext) Priority() *float64 {
	if c.r.priority == nil {
		return nil
	}
	p := *c.r.priority
	return &p
}

// spanContext is the ddtrace.SpanContext of a workflow span. It also implements
// ddtrace.SpanContextW3C, so a span started from it with the tracer keeps all 128 bits
// of the trace id.
type spanContext struct{ r spanRef }

var _ ddtrace.SpanContextW3C = spanContext{}

// SpanID implements ddtrace.SpanContext.
func (c spanContext) SpanID() uint64 { return c.r.spanID }

// TraceID implements ddtrace.SpanContext: the lower 64 bits of the trace id.
func (c spanContext) TraceID() uint64 { return c.r.traceLo }

// ForeachBaggageItem implements ddtrace.SpanContext; workflow spans carry no baggage.
func (c spanContext) ForeachBaggageItem(func(k, v string) bool) {}

// TraceID128 implements ddtrace.SpanContextW3C.
func (c spanContext) TraceID128() string {
	b := c.r.traceIDBytes()
	return hex.EncodeToString(b[:])
}

// TraceID128Bytes implements ddtrace.SpanContextW3C.
func (c spanContext) TraceID128Bytes() [16]byte { return c.r.traceIDBytes() }
