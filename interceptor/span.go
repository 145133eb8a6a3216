package interceptor

import (
	"math/rand/v2"
	"time"

	v2 "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	"go.temporal.io/sdk/workflow"
	"gopkg.in/DataDog/dd-trace-go.v1/ddtrace"
)

// wfSpan is a span in workflow code. It is a record, not a tracer span: when it ends
// while the workflow is not replaying it is sent with the ids and times it was given
// from history (see Interceptor.send); ended during replay, it is dropped, because the
// worker that first ran that part of the history sent it then.
type wfSpan struct {
	st        *workflowState
	operation string
	resource  string
	kind      string
	spanID    uint64
	parentID  uint64
	// trace, when set, is the trace the span belongs to instead of the workflow's: a
	// query span joins the trace of the client that asked.
	trace *spanRef
	start time.Time
	tags  map[string]any
	links []v2.SpanLink
	// deterministic spans take their id from the sequence and are sent only when they
	// end outside replay; the others (queries, update validators) run once, on one
	// worker, in wall-clock time, and are always sent.
	deterministic bool
	// user spans come from StartSpan and end with Finish; ctx is their workflow context.
	user  bool
	ctx   workflow.Context
	ended bool
}

var _ ddtrace.Span = (*wfSpan)(nil)

type spanKey struct{}

// spanFromContext returns the innermost workflow span of ctx, nil if none.
func spanFromContext(ctx workflow.Context) *wfSpan {
	s, _ := ctx.Value(spanKey{}).(*wfSpan)
	return s
}

func contextWithSpan(ctx workflow.Context, s *wfSpan) workflow.Context {
	return workflow.WithValue(ctx, spanKey{}, s)
}

// ref returns the span's ids. Before ExecuteWorkflow has read the start header the
// trace id is not known yet and is zero.
func (s *wfSpan) ref() spanRef {
	r := s.st.trace
	if s.trace != nil {
		r = *s.trace
	}
	r.spanID = s.spanID
	return r
}

func (s *wfSpan) tag(k string, v any) {
	if s.tags == nil {
		s.tags = make(map[string]any, 4)
	}
	s.tags[k] = v
}

// end ends the span at the current workflow time (wall-clock time for spans that are
// not deterministic) and sends it unless the workflow is replaying.
func (s *wfSpan) end(ctx workflow.Context, err error) {
	if s.ended {
		return
	}
	s.ended = true
	if !s.deterministic {
		s.st.emit(s, time.Now(), err)
		return
	}
	if workflow.IsReplaying(ctx) {
		return
	}
	s.st.emit(s, workflow.Now(ctx), err)
}

func (s *wfSpan) data(end time.Time, err error) *spanData {
	d := &spanData{
		operation: s.operation,
		resource:  s.resource,
		kind:      s.kind,
		ref:       s.ref(),
		parentID:  s.parentID,
		start:     s.start,
		end:       end,
		tags:      s.tags,
		links:     s.links,
		err:       err,
		runEnded:  s != s.st.run && s.st.run.ended,
	}
	if d.end.Before(d.start) { // wall clock behind the server's
		d.end = d.start
	}
	return d
}

// SetTag implements ddtrace.Span. Tags are kept with the span and sent when it ends.
func (s *wfSpan) SetTag(key string, value any) { s.tag(key, value) }

// SetOperationName implements ddtrace.Span.
func (s *wfSpan) SetOperationName(name string) { s.operation = name }

// BaggageItem implements ddtrace.Span. Workflow spans carry no baggage.
func (s *wfSpan) BaggageItem(string) string { return "" }

// SetBaggageItem implements ddtrace.Span. Workflow spans carry no baggage: it is ignored.
func (s *wfSpan) SetBaggageItem(string, string) {}

// Finish implements ddtrace.Span. It ends a span started with StartSpan at the current
// workflow time (a FinishTime option is ignored: time in workflows comes from history);
// a WithError option sets its error. It does nothing for the interceptor's own spans,
// which end with the operation they trace.
func (s *wfSpan) Finish(opts ...ddtrace.FinishOption) {
	if !s.user {
		return
	}
	var cfg ddtrace.FinishConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	s.end(s.ctx, cfg.Error)
}

// Context implements ddtrace.Span.
func (s *wfSpan) Context() ddtrace.SpanContext { return spanContext{s.ref()} }

// SpanFromWorkflowContext returns the span of the workflow code ctx belongs to: the
// innermost span started with StartSpan or by the interceptor (for example HandleSignal
// in a signal handler), else the RunWorkflow span. ok is false when the workflow does
// not run with an Interceptor.
//
// The span's ids are final, so they can be logged or passed on, but the span itself is
// sent only when it ends; SetTag adds tags to it. Finish does nothing on spans the
// interceptor started.
func SpanFromWorkflowContext(ctx workflow.Context) (span ddtrace.Span, ok bool) {
	if s := spanFromContext(ctx); s != nil {
		return s, true
	}
	return nil, false
}

// StartSpan starts a span in workflow code, as a child of the span of ctx, and returns
// it with a context that carries it. It is replay-safe: its id is deterministic, it
// starts at the current workflow time, and Finish sends it only when the workflow is
// not replaying, so it reaches Datadog exactly once.
//
// Of opts, tags (tracer.Tag, ResourceName, ServiceName, SpanType) and span links are
// used; start time, span id and parent are decided by the interceptor. Without an
// Interceptor on the worker, StartSpan returns a span that does nothing and ctx.
func StartSpan(ctx workflow.Context, operation string, opts ...ddtrace.StartSpanOption) (ddtrace.Span, workflow.Context) {
	parent := spanFromContext(ctx)
	if parent == nil {
		return noopSpan{}, ctx
	}
	var cfg ddtrace.StartSpanConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	s := parent.st.startSpan(ctx, operation, operation, kindInternal)
	for k, v := range cfg.Tags {
		s.tag(k, v)
	}
	s.links = append(s.links, cfg.SpanLinks...)
	s.user = true
	s.ctx = ctx
	return s, contextWithSpan(ctx, s)
}

// randomSpanID is for spans outside the deterministic sequence.
func randomSpanID() uint64 {
	for {
		if id := rand.Uint64() >> 1; id != 0 {
			return id
		}
	}
}

// noopSpan is what StartSpan returns in a workflow without the interceptor.
type noopSpan struct{}

func (noopSpan) SetTag(string, any)             {}
func (noopSpan) SetOperationName(string)        {}
func (noopSpan) BaggageItem(string) string      { return "" }
func (noopSpan) SetBaggageItem(string, string)  {}
func (noopSpan) Finish(...ddtrace.FinishOption) {}
func (noopSpan) Context() ddtrace.SpanContext   { return spanContext{} }
