package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/internal/testenv"
)

// TestQuickstart runs the demo end to end (smaller payloads) so it cannot rot.
func TestQuickstart(t *testing.T) {
	testenv.TemporalBin(t) // skip on a laptop without tools; fail in CI
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, config{size: 8 << 20, dir: t.TempDir(), runs: 2}); err != nil {
		t.Fatalf("quickstart: %v\n%s", err, out.String())
	}
	s := out.String()
	t.Log(s)
	for _, want := range []string{"8.0 MiB", "verified by the workflow", "run 2 of 2"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The second run stores nothing new: every payload is a dedupe hit.
	if !regexp.MustCompile(`run 2 of 2\)[\s\S]*blobs stored:\s+0 [\s\S]*dedupe hits:\s+3`).MatchString(s) {
		t.Errorf("second run was not fully deduplicated:\n%s", s)
	}
	// History stays small: no event anywhere near the payload size.
	m := regexp.MustCompile(`largest event ([0-9.]+) (B|KiB)`).FindStringSubmatch(s)
	if m == nil {
		t.Errorf("largest event is not reported in bytes or KiB (so it is MiB-sized):\n%s", s)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"50MiB": 50 << 20, "1GiB": 1 << 30, "10KiB": 10 << 10, "123": 123, "7B": 7} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-5MiB", "abc", "1.5MiB", "0"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) succeeded, want an error", bad)
		}
	}
}
