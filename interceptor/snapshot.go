package interceptor

import (
	"maps"
	"sync"
	"time"
)

// startSnapshots starts re-sending copies of the RunWorkflow span while this instance
// of the workflow lives on this worker (Options.SnapshotInterval); the returned
// function stops them and waits until no copy is in flight. It is idempotent.
//
// A copy has the ids and start of the final span, ends now, and carries
// _dd.partial_version: the milliseconds since the workflow started, so versions keep
// increasing when the workflow moves to another worker, which starts counting afresh.
func (st *workflowState) startSnapshots() (stop func()) {
	iv := st.root.opts.SnapshotInterval
	if iv <= 0 {
		return func() {}
	}
	// A copy of the span as it is now: the goroutine must not share the record with
	// workflow code.
	base := *st.run.data(st.run.start, nil)
	base.tags = maps.Clone(base.tags)
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(iv)
		defer t.Stop()
		var version int64
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				version = max(version+1, now.Sub(base.start).Milliseconds())
				d := base
				d.end = now
				d.tags = maps.Clone(base.tags)
				if d.tags == nil {
					d.tags = map[string]any{}
				}
				d.tags[metricPartialVersion] = float64(version)
				st.root.send(&d, true)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-exited
		})
	}
}
