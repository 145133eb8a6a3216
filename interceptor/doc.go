// Package interceptor traces Temporal workflows with Datadog, built for workflows that
// run for days: one RunWorkflow span from the real start to the real end, and the
// activities, timers, signals, updates and child workflows inside it as they happen,
// however often the workflow is evicted, replayed or moved between workers.
//
// One rule makes that exact: a span's id and start time come from workflow history, and
// a span is sent only when it ends while the workflow is not replaying.
//
//   - Ids are deterministic. The RunWorkflow span id derives from the namespace and run
//     id; every other span in workflow code takes the next number of a sequence that
//     advances identically on replay (queries and update validators never advance it).
//     A run started without a trace context gets a trace id derived from the run as
//     well, so any worker computes the same ids. ValidateUpdate spans take ids derived
//     from the run and the update id, so a workflow task that runs again sends the same.
//   - Workflow spans are records, not open tracer spans. A span that ends while the
//     workflow replays (after an eviction, a restart, or to answer a query) is dropped:
//     the worker that first ran that part of history sent it. A span that ends outside
//     replay is built, finished and sent, parented by id to the RunWorkflow span, which
//     itself is sent once, by the worker that completes the run. Spans of one parent
//     that end within a second of each other go to the tracer together, as one chunk,
//     so the tracer's own per-chunk tags are paid once per group; RunWorkflow sends its
//     run's waiting spans first, and Interceptor.Flush sends the rest at shutdown.
//   - A worker that holds a running workflow in its cache re-sends a copy of its
//     RunWorkflow span every Options.SnapshotInterval (default 5 minutes; NoSnapshots
//     turns it off): Datadog's long-running span protocol, same ids, increasing
//     _dd.partial_version; the final span, still sent once and last, carries
//     _dd.was_long_running=1.
//   - Continue-as-new ends the run normally; the next run starts a new trace with a span
//     link to the previous RunWorkflow.
//   - A run that ends without a final workflow task (terminated, timed out, reset,
//     canceled without a final task) reaches no worker again: a Closer sends its final
//     RunWorkflow span, with the same ids, from Temporal's visibility and the run's
//     first and close events, once per run (see Closer for what a crash mid-batch
//     resends). Workers stop snapshots of a run once it is closed.
//
// On the client, StartWorkflow, SignalWorkflow, SignalWithStartWorkflow, QueryWorkflow,
// UpdateWorkflow and UpdateWithStartWorkflow are traced and inject their span context
// into the Temporal header under "dd_trace_span", in the format of Temporal's
// contrib/datadog interceptor, so a fleet can migrate one worker at a time.
//
// A span is sent twice only when the workflow task that ended it does not count: the
// worker crashes or loses the server before it reports the task, or the server rejects
// the task's completion (a signal arrived while the task completed the workflow), so the
// task runs again outside replay. The interceptor cannot see this from workflow code.
//
// The sequence counts traced operations, so change the Disable* options only between
// deployments whose workflows have drained: a span started under one setting and ended
// under another gets a different id than the one its children were given.
//
// A span carries only what its parent does not say already: workflow id and run id are
// on RunWorkflow (and on client spans), not on every span below it; the activity or
// child workflow type is the resource.
//
// With CodecTracer as codec.Options.Tracer, the codec's store operations (offload,
// fetch) are spans in the trace of the workflow or activity that caused them.
//
// The tracer is dd-trace-go v2 (tested with v2.12.0); applications still on the v1 API
// (gopkg.in/DataDog/dd-trace-go.v1 v1.74.8, a layer over v2's tracer) share the same
// tracer. Start it as usual with tracer.Start.
package interceptor
