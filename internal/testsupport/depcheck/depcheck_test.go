package depcheck_test

import (
	"fmt"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/depcheck"
)

// recorder is a testing.TB that keeps the failures instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestForbid(t *testing.T) {
	for _, tc := range []struct {
		name   string
		banned []string
		fails  bool
	}{
		{"an exact package it links", []string{"internal/reflectlite"}, true},
		{"a tree it links", []string{"internal/"}, true},
		{"an exact path it does not link", []string{"internal"}, false},
		{"a tree it does not link", []string{"net/"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			depcheck.Forbid(r, "errors", tc.banned...)
			if got := len(r.errs) > 0; got != tc.fails {
				t.Fatalf("Forbid(errors, %q) failed = %v (%q), want %v", tc.banned, got, r.errs, tc.fails)
			}
		})
	}
}
