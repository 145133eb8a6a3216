package interceptor

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"gopkg.in/DataDog/dd-trace-go.v1/ddtrace"
)

// DefaultHeaderKey is the Temporal header key of the span context, the same as
// Temporal's contrib/datadog interceptor uses.
const DefaultHeaderKey = "dd_trace_span"

// MinSnapshotInterval is the shortest positive SnapshotInterval New accepts.
const MinSnapshotInterval = 100 * time.Millisecond

// DefaultSnapshotInterval is the SnapshotInterval of a zero Options: a running workflow
// shows up in Datadog within five minutes of its start, and each worker sends one small
// span per cached workflow per interval (dd-trace-java's long-running traces flush every
// two minutes; workflows that last days need no finer grain). Workflows shorter than
// the interval send no partial copies at all. Each cached workflow holds one goroutine
// and one ticker for it while snapshots are on.
const DefaultSnapshotInterval = 5 * time.Minute

// NoSnapshots as Options.SnapshotInterval turns partial RunWorkflow copies off.
const NoSnapshots time.Duration = -1

// defaultSnapshotInterval is DefaultSnapshotInterval; tests shorten it.
var defaultSnapshotInterval = DefaultSnapshotInterval

// ErrInvalidOptions is returned (wrapped) by New for options it cannot use.
var ErrInvalidOptions = errors.New("invalid options")

// Options configures an Interceptor. The zero value is ready to use.
type Options struct {
	// ServiceName is the service of every span. Default: the tracer's service (DD_SERVICE).
	ServiceName string

	// DisableSignalTracing turns off spans for signals: SignalWorkflow on the client,
	// HandleSignal, SignalExternalWorkflow and SignalChildWorkflow in workflows.
	DisableSignalTracing bool
	// DisableQueryTracing turns off spans for queries: QueryWorkflow on the client and
	// HandleQuery in workflows.
	DisableQueryTracing bool
	// DisableUpdateTracing turns off spans for updates: UpdateWorkflow and
	// UpdateWithStartWorkflow on the client, ValidateUpdate and HandleUpdate in workflows.
	DisableUpdateTracing bool

	// SnapshotInterval makes a worker re-send a copy of the RunWorkflow span of each
	// workflow it holds in its cache every interval while the workflow runs, with the
	// same ids and an increasing _dd.partial_version (Datadog's long-running span
	// protocol), so the trace shows the workflow before it ends. The final span is
	// still sent exactly once, after the last copy, and carries _dd.was_long_running=1
	// when the run lasted at least one interval. Zero means DefaultSnapshotInterval (5
	// minutes); a negative value (NoSnapshots) turns snapshots off; a positive value is
	// at least MinSnapshotInterval. Datadog drops a partial trace chunk after about 15
	// minutes without news, so keep it well below that.
	//
	// Copies of a run stop once it is closed, so none follows the final span a Closer
	// sends: once its run timeout has passed, or when the client the interceptor is
	// installed on reports it closed (checked before each copy: one
	// DescribeWorkflowExecution per cached run per interval).
	SnapshotInterval time.Duration

	// HeaderKey is the Temporal header key of the span context. Default: DefaultHeaderKey.
	HeaderKey string

	// Tags are set on every span.
	Tags map[string]any

	// OnFinish, when set, replaces the default error tagging: it is called for every
	// span just before the span is finished and sent, with the error of the operation
	// (nil on success), and may set tags on it. The default marks the span as an error
	// with error.type and error.message unless err is nil, a cancellation, a
	// continue-as-new or an application error of the benign category.
	//
	// For workflow spans it runs in workflow code, only on the worker that exports the
	// span; it must not block.
	OnFinish func(span ddtrace.Span, err error)
}

func (o Options) withDefaults() (Options, error) {
	o.HeaderKey = cmp.Or(o.HeaderKey, DefaultHeaderKey)
	switch {
	case o.SnapshotInterval == 0:
		o.SnapshotInterval = defaultSnapshotInterval
	case o.SnapshotInterval < 0:
		o.SnapshotInterval = NoSnapshots
	case o.SnapshotInterval < MinSnapshotInterval:
		return o, fmt.Errorf("%w: SnapshotInterval %s is below %s", ErrInvalidOptions, o.SnapshotInterval, MinSnapshotInterval)
	}
	return o, nil
}
