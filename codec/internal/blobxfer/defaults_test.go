package blobxfer

import (
	"testing"
	"time"
)

func TestOrDefault(t *testing.T) {
	for _, tc := range []struct{ v, want time.Duration }{
		{0, time.Minute}, {-time.Second, time.Minute}, {time.Second, time.Second},
	} {
		if got := OrDefault(tc.v, time.Minute); got != tc.want {
			t.Errorf("OrDefault(%v, 1m) = %v, want %v", tc.v, got, tc.want)
		}
	}
	if got := OrDefault(-1, 4); got != 4 {
		t.Errorf("OrDefault(-1, 4) = %d, want 4", got)
	}
}
