package testenv

import (
	"context"

	"go.temporal.io/sdk/activity"
)

// RotateActivity returns its input rotated left by one byte: a different blob of the same
// size, so an activity round trip stores its result instead of deduplicating it. The
// codec's and the payload service's workflow tests both run it.
func RotateActivity(ctx context.Context, data []byte) ([]byte, error) {
	activity.GetLogger(ctx).Info("rotating", "bytes", len(data))
	return Rotate(data), nil
}

// Rotate returns b rotated left by one byte. It is cheap (two copies), so workflow code
// can run it on 50 MiB without tripping the one-second deadlock detector.
func Rotate(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	out := make([]byte, len(b))
	copy(out, b[1:])
	out[len(b)-1] = b[0]
	return out
}
