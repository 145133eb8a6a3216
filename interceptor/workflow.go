package interceptor

import (
	"time"

	v2 "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"
)

// Tag keys. The temporal.* names are the ones contrib/datadog uses, so dashboards keep
// working across a migration.
const (
	tagWorkflowID         = "temporal.WorkflowID"
	tagRunID              = "temporal.RunID"
	tagWorkflowType       = "temporal.WorkflowType"
	tagActivityID         = "temporal.ActivityID"
	tagActivityType       = "temporal.ActivityType"
	tagAttempt            = "temporal.Attempt"
	tagUpdateID           = "temporal.UpdateID"
	tagContinuedAsNew     = "temporal.ContinuedAsNew"
	tagContinuedFromRunID = "temporal.ContinuedFromRunID"
	// Datadog's long-running span protocol.
	metricPartialVersion = "_dd.partial_version"
	metricWasLongRunning = "_dd.was_long_running"
)

// linkSuffix makes the header key under which a run that continues as new passes its
// RunWorkflow span to the next run, which links to it instead of becoming its child.
const linkSuffix = "_link"

// workflowState is the tracing state of one instance of a workflow execution on one
// worker. A new instance (after an eviction, or on another worker) starts from scratch
// and rebuilds the same state by replaying history.
type workflowState struct {
	root *Interceptor
	info *workflow.Info
	// seq numbers the deterministic spans of the run; the RunWorkflow span is 0.
	seq uint64
	run *wfSpan
	// trace holds the trace id (and sampling priority) of the run, known once
	// ExecuteWorkflow has read the start header (ready).
	trace spanRef
	ready bool
	// pending holds spans that ended before ready: a signal that came with the start
	// is handled before the workflow function runs.
	pending []pendingSpan
	// readOnly counts query handlers and update validators running: code in them never
	// replays, so it must not take deterministic ids.
	readOnly int
}

type pendingSpan struct {
	s   *wfSpan
	end time.Time
	err error
}

func newWorkflowState(root *Interceptor, info *workflow.Info) *workflowState {
	st := &workflowState{root: root, info: info}
	st.run = &wfSpan{
		st:            st,
		operation:     operationPrefix + "RunWorkflow",
		resource:      info.WorkflowType.Name,
		kind:          kindServer,
		spanID:        spanIDFor(info.Namespace, info.WorkflowExecution.RunID, 0),
		start:         info.WorkflowStartTime,
		deterministic: true,
	}
	st.run.tag(tagWorkflowType, info.WorkflowType.Name)
	st.run.tag(tagWorkflowID, info.WorkflowExecution.ID)
	st.run.tag(tagRunID, info.WorkflowExecution.RunID)
	return st
}

// begin reads the start header and gives the RunWorkflow span its trace, parent and
// links (see runSpan, which the closer uses too).
func (st *workflowState) begin(ctx workflow.Context) {
	info := st.info
	d, errs := st.root.runSpan(runStart{
		namespace:     info.Namespace,
		workflowID:    info.WorkflowExecution.ID,
		runID:         info.WorkflowExecution.RunID,
		workflowType:  info.WorkflowType.Name,
		continuedFrom: info.ContinuedExecutionRunID,
		start:         info.WorkflowStartTime,
		header:        interceptor.WorkflowHeader(ctx),
	})
	for _, err := range errs {
		workflow.GetLogger(ctx).Warn("Ignoring unreadable trace context in workflow header", "error", err)
	}
	st.trace = d.ref
	st.run.parentID = d.parentID
	st.run.links = append(st.run.links, d.links...)
	if from, ok := d.tags[tagContinuedFromRunID]; ok {
		st.run.tag(tagContinuedFromRunID, from)
	}
	st.ready = true
	for _, p := range st.pending {
		st.root.send(p.s.data(p.end, p.err), false)
	}
	st.pending = nil
}

func link(sc *v2.SpanContext, kind string) v2.SpanLink {
	r := refFromTracer(sc)
	return v2.SpanLink{TraceID: r.traceLo, TraceIDHigh: r.traceHi, SpanID: r.spanID, Attributes: map[string]string{"link.kind": kind}}
}

func (st *workflowState) emit(s *wfSpan, end time.Time, err error) {
	if !st.ready {
		st.pending = append(st.pending, pendingSpan{s, end, err})
		return
	}
	st.root.send(s.data(end, err), false)
}

// startSpan starts a span as a child of the span of ctx (else of RunWorkflow). In
// deterministic code it takes the next id of the sequence and the workflow time; in
// queries and update validators a random id (ValidateUpdate replaces its own, see
// validateSpanIDFor) and the wall clock.
func (st *workflowState) startSpan(ctx workflow.Context, operation, resource, kind string) *wfSpan {
	s := &wfSpan{st: st, operation: operation, resource: resource, kind: kind, parentID: st.run.spanID}
	if p := spanFromContext(ctx); p != nil {
		s.parentID = p.spanID
		s.trace = p.trace
	}
	if st.readOnly > 0 {
		s.spanID = randomSpanID()
		s.start = time.Now()
	} else {
		st.seq++
		s.spanID = spanIDFor(st.info.Namespace, st.info.WorkflowExecution.RunID, st.seq)
		s.start = workflow.Now(ctx)
		s.deterministic = true
	}
	return s
}

// workflowInbound traces RunWorkflow, signals, queries and updates.
type workflowInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	state *workflowState
}

func (w *workflowInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	o := &workflowOutbound{st: w.state}
	o.Next = outbound
	return w.Next.Init(o)
}

func (w *workflowInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	st := w.state
	st.begin(ctx)
	ctx = contextWithSpan(ctx, st.run)
	// The SDK ends the coroutines of an evicted workflow with runtime.Goexit, which runs
	// this defer but returns nothing: the snapshots stop, and RunWorkflow is not sent.
	stopSnapshots := st.startSnapshots()
	defer stopSnapshots()

	ret, err := w.Next.ExecuteWorkflow(ctx, in)

	stopSnapshots() // no partial copy may follow the final span
	if workflow.IsContinueAsNewError(err) {
		st.run.tag(tagContinuedAsNew, true)
	}
	if iv := st.root.opts.SnapshotInterval; iv > 0 && workflow.Now(ctx).Sub(st.run.start) >= iv {
		st.run.tag(metricWasLongRunning, 1)
	}
	st.run.end(ctx, err)
	return ret, err
}

func (w *workflowInbound) HandleSignal(ctx workflow.Context, in *interceptor.HandleSignalInput) error {
	if w.state.root.opts.DisableSignalTracing {
		return w.Next.HandleSignal(ctx, in)
	}
	s := w.state.startSpan(ctx, operationPrefix+"HandleSignal", in.SignalName, kindConsumer)
	w.linkCaller(ctx, s, "signal_sender")
	err := w.Next.HandleSignal(contextWithSpan(ctx, s), in)
	s.end(ctx, err)
	return err
}

func (w *workflowInbound) HandleQuery(ctx workflow.Context, in *interceptor.HandleQueryInput) (any, error) {
	st := w.state
	st.readOnly++
	defer func() { st.readOnly-- }()
	if st.root.opts.DisableQueryTracing {
		return w.Next.HandleQuery(ctx, in)
	}
	s := st.startSpan(ctx, operationPrefix+"HandleQuery", in.QueryType, kindServer)
	// A query is a request from a client, not part of the workflow's history: its span
	// joins the client's trace when the client sent one.
	if caller, _ := readHeader(interceptor.WorkflowHeader(ctx), st.root.opts.HeaderKey); caller != nil {
		r := refFromTracer(caller)
		s.trace = &r
		s.parentID = r.spanID
	}
	ret, err := w.Next.HandleQuery(contextWithSpan(ctx, s), in)
	s.end(ctx, err)
	return ret, err
}

func (w *workflowInbound) ValidateUpdate(ctx workflow.Context, in *interceptor.UpdateInput) error {
	st := w.state
	st.readOnly++
	defer func() { st.readOnly-- }()
	if st.root.opts.DisableUpdateTracing {
		return w.Next.ValidateUpdate(ctx, in)
	}
	s := st.startSpan(ctx, operationPrefix+"ValidateUpdate", in.Name, kindServer)
	updateID := workflow.GetCurrentUpdateInfo(ctx).ID
	s.spanID = validateSpanIDFor(st.info.Namespace, st.info.WorkflowExecution.RunID, updateID)
	s.tag(tagUpdateID, updateID)
	w.linkCaller(ctx, s, "update_caller")
	err := w.Next.ValidateUpdate(contextWithSpan(ctx, s), in)
	s.end(ctx, err)
	return err
}

func (w *workflowInbound) ExecuteUpdate(ctx workflow.Context, in *interceptor.UpdateInput) (any, error) {
	if w.state.root.opts.DisableUpdateTracing {
		return w.Next.ExecuteUpdate(ctx, in)
	}
	s := w.state.startSpan(ctx, operationPrefix+"HandleUpdate", in.Name, kindServer)
	s.tag(tagUpdateID, workflow.GetCurrentUpdateInfo(ctx).ID)
	w.linkCaller(ctx, s, "update_caller")
	ret, err := w.Next.ExecuteUpdate(contextWithSpan(ctx, s), in)
	s.end(ctx, err)
	return ret, err
}

// linkCaller links s to the span of whoever sent the signal or update: the span belongs
// to the workflow's trace, where it happened, and the link leads to the sender's.
func (w *workflowInbound) linkCaller(ctx workflow.Context, s *wfSpan, kind string) {
	if caller, _ := readHeader(interceptor.WorkflowHeader(ctx), w.state.root.opts.HeaderKey); caller != nil {
		s.links = append(s.links, link(caller, kind))
	}
}
