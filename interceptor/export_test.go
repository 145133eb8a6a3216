package interceptor

import (
	"testing"
	"time"
)

// SpanIDFor exposes the deterministic span id for tests.
var SpanIDFor = spanIDFor

// ValidateSpanIDFor exposes the ValidateUpdate span id for tests.
var ValidateSpanIDFor = validateSpanIDFor

// SetDefaultSnapshotInterval makes d the interval a zero Options.SnapshotInterval means
// until the test ends, so a test sees the default protocol without waiting 5 minutes.
func SetDefaultSnapshotInterval(t testing.TB, d time.Duration) {
	old := defaultSnapshotInterval
	defaultSnapshotInterval = d
	t.Cleanup(func() { defaultSnapshotInterval = old })
}

// SnapshotIntervalOf reports the snapshot interval New resolves opts to.
func SnapshotIntervalOf(opts Options) (time.Duration, error) {
	o, err := opts.withDefaults()
	return o.SnapshotInterval, err
}

// SetBatchWindow makes d the time workflow spans wait for others of their group until
// the test ends.
func SetBatchWindow(t testing.TB, d time.Duration) {
	old := batchWindow
	batchWindow = d
	t.Cleanup(func() { batchWindow = old })
}
