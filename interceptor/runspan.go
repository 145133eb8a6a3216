package interceptor

import (
	"time"

	v2 "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	commonpb "go.temporal.io/api/common/v1"
)

// runStart is what the RunWorkflow span of a run takes from the run's start: its
// WorkflowExecutionStarted event, as the worker sees it in workflow.Info and the start
// header, and as the closer reads it from history. Both derive the span from it with
// runSpan, so the closer's final span has the ids the worker used.
type runStart struct {
	namespace, workflowID, runID, workflowType string
	// continuedFrom is the run this one continued as new from, if any.
	continuedFrom string
	start         time.Time
	header        map[string]*commonpb.Payload
}

// runSpan returns the RunWorkflow span of a run, without an end. The span joins the
// caller's trace as a child of its span, or, for a run continued as new (or started
// without a span context), starts a trace of its own with ids derived from the run.
// An unreadable header entry is reported in errs and otherwise ignored: the span then
// takes the derived ids, on every worker and in the closer alike.
func (i *Interceptor) runSpan(rs runStart) (d *spanData, errs []error) {
	d = &spanData{
		operation: operationPrefix + "RunWorkflow",
		resource:  rs.workflowType,
		kind:      kindServer,
		start:     rs.start,
		tags: map[string]any{
			tagWorkflowType: rs.workflowType,
			tagWorkflowID:   rs.workflowID,
			tagRunID:        rs.runID,
		},
	}
	spanID := spanIDFor(rs.namespace, rs.runID, 0)
	key := i.opts.HeaderKey
	prev, err := readHeader(rs.header, key+linkSuffix)
	if err != nil {
		errs = append(errs, err)
	}
	var parent *v2.SpanContext
	if prev == nil {
		if parent, err = readHeader(rs.header, key); err != nil {
			errs = append(errs, err)
		}
	}
	if parent != nil {
		d.ref = refFromTracer(parent)
		d.parentID = parent.SpanID()
	} else {
		d.ref = i.newTraceRef(traceIDFor(rs.namespace, rs.workflowID, rs.runID), spanID, rs.start)
	}
	d.ref.spanID = spanID
	if prev != nil {
		d.links = append(d.links, link(prev, "continued_from"))
		d.tags[tagContinuedFromRunID] = rs.continuedFrom
	}
	return d, errs
}
