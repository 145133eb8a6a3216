package driver

import (
	"errors"
	"fmt"
	"testing"
)

// Permanent marks once: what is permanent already comes back as it is, so a driver can
// mark its spent retries without checking first, and nothing wraps twice.
func TestPermanentMarksOnce(t *testing.T) {
	transient := errors.New("503 slow down")
	once := Permanent(transient)
	notFound := fmt.Errorf("get: %w", ErrNotFound)
	for _, tc := range []struct {
		name     string
		in, want error
	}{
		{"nil", nil, nil},
		{"already marked", once, once},
		{"not found", notFound, notFound},
	} {
		if got := Permanent(tc.in); got != tc.want {
			t.Errorf("%s: Permanent(%v) = %#v, want it unchanged", tc.name, tc.in, got)
		}
	}
	if !IsPermanent(once) || !errors.Is(once, transient) {
		t.Errorf("Permanent(%v) = %v: not permanent or lost its cause", transient, once)
	}
}
