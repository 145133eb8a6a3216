package interceptor

import (
	"maps"
	"sync"
	"time"

	v2 "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
)

// Workflow spans leave in groups. The tracer sends each chunk of a trace (spans that
// share a local root) with about 340 bytes of tags of its own on the chunk's first span
// (process tags, sampling, schema, profiling); a workflow span has its parent in
// history, not in the process, so sent alone it is a chunk of its own and pays them
// every time. Spans of one parent that end within batchWindow of each other go out
// together as one chunk instead: a workflow of 20 activities sends 2-3 chunks of
// StartActivity spans, not 20. The run's RunWorkflow span flushes its run's spans first,
// so a finished workflow has nothing waiting; Interceptor.Flush sends the rest at
// shutdown.

// batchWindow is how long the first span of a group waits for others.
var batchWindow = time.Second

// maxPending bounds the spans waiting: past it they are sent at once.
const maxPending = 4096

// groupKey is a trace and the parent the group's spans share (a chunk's spans are
// children of one span context).
type groupKey struct {
	traceHi, traceLo, parentID uint64
}

// batcher holds workflow spans until their group is sent.
type batcher struct {
	root    *Interceptor
	mu      sync.Mutex
	groups  map[groupKey][]*spanData
	pending int
	timer   *time.Timer // armed while anything is pending
}

// add queues d (a copy: workflow code keeps its record) for its group.
func (b *batcher) add(d *spanData) {
	c := *d
	c.tags = maps.Clone(d.tags)
	k := groupKey{c.ref.traceHi, c.ref.traceLo, c.parentID}
	b.mu.Lock()
	if b.groups == nil {
		b.groups = make(map[groupKey][]*spanData)
	}
	b.groups[k] = append(b.groups[k], &c)
	b.pending++
	full := b.pending >= maxPending
	if b.timer == nil && !full {
		b.timer = time.AfterFunc(batchWindow, b.flushAll)
	}
	b.mu.Unlock()
	if full {
		b.flushAll()
	}
}

// flushAll sends every group now.
func (b *batcher) flushAll() {
	b.mu.Lock()
	groups := b.groups
	b.groups, b.pending = nil, 0
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	b.mu.Unlock()
	for _, g := range groups {
		b.root.sendGroup(g)
	}
}

// flushTrace sends now the groups of one trace (a run about to send its RunWorkflow).
func (b *batcher) flushTrace(traceHi, traceLo uint64) {
	var out [][]*spanData
	b.mu.Lock()
	for k, g := range b.groups {
		if k.traceHi == traceHi && k.traceLo == traceLo {
			out = append(out, g)
			b.pending -= len(g)
			delete(b.groups, k)
		}
	}
	b.mu.Unlock()
	for _, g := range out {
		b.root.sendGroup(g)
	}
}

// sendGroup sends spans of one parent as one chunk: all are started from one parent
// span context, whose trace they then share, before any finishes. Only the chunk's first
// span is top-level for the tracer; the others are marked measured, so Datadog computes
// the same statistics for every workflow span however they were grouped.
func (i *Interceptor) sendGroup(g []*spanData) {
	parent := g[0].ref
	parent.spanID = g[0].parentID
	pc := parent.tracerContext()
	started := make([]*v2.Span, 0, len(g))
	for n, d := range g {
		span := i.start(d, pc, n > 0)
		if span == nil { // tracer disabled
			return
		}
		started = append(started, span)
	}
	for n, span := range started {
		i.onFinish(span, g[n].err)
		span.Finish(v2.FinishTime(g[n].end))
	}
}

// Flush sends the workflow spans that wait to be grouped (at most about a second's
// worth). Call it when the process stops, before the tracer's Stop: the tracer flushes
// what it has, and these it does not have yet.
func (i *Interceptor) Flush() { i.batch.flushAll() }
