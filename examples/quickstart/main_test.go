package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// TestQuickstart runs the demo end to end (smaller payloads) so it cannot rot.
func TestQuickstart(t *testing.T) {
	cli := testenv.TemporalBin(t) // skip on a laptop without tools; fail in CI
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, config{size: 8 << 20, dir: t.TempDir(), cli: cli, runs: 2}); err != nil {
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

// The example cannot import internal/testsupport/testenv, so it pins the CLI version itself.
func TestTemporalCLIVersionPinned(t *testing.T) {
	if temporalCLIVersion != testenv.TemporalCLIVersion {
		t.Errorf("quickstart pins temporal CLI %s, testenv (and the Makefile) %s", temporalCLIVersion, testenv.TemporalCLIVersion)
	}
}

// TestFindTemporalCLI: the flag, then $LONGHAUL_TEMPORAL, then the tool cache, then $PATH.
func TestFindTemporalCLI(t *testing.T) {
	exe := func(dir string) string {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "temporal")
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	root := t.TempDir()
	flagged := exe(filepath.Join(root, "flag"))
	fromEnv := exe(filepath.Join(root, "env"))
	tools := filepath.Join(root, "tools")
	cached := exe(filepath.Join(tools, "temporal-"+temporalCLIVersion))
	xdgCached := exe(filepath.Join(root, "xdg", "longhaul", "tools", "temporal-"+temporalCLIVersion))
	onPath := exe(filepath.Join(root, "path"))
	empty := filepath.Join(root, "empty")

	tests := []struct {
		name, flag, env, tools, xdg, path, want string
	}{
		{"flag first", flagged, fromEnv, tools, "", onPath, flagged},
		{"then LONGHAUL_TEMPORAL", "", fromEnv, tools, "", onPath, fromEnv},
		{"then LONGHAUL_TOOLS_DIR", "", "", tools, "", onPath, cached},
		{"then XDG_CACHE_HOME", "", "", "", filepath.Join(root, "xdg"), onPath, xdgCached},
		{"then PATH", "", "", empty, "", filepath.Dir(onPath), onPath},
		{"none", "", "", empty, "", empty, ""},
		{"missing flag path", filepath.Join(empty, "temporal"), "", tools, "", onPath, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("LONGHAUL_TEMPORAL", tt.env)
			t.Setenv("LONGHAUL_TOOLS_DIR", tt.tools)
			t.Setenv("XDG_CACHE_HOME", tt.xdg)
			t.Setenv("HOME", empty)
			t.Setenv("PATH", tt.path)
			got, err := findTemporalCLI(tt.flag)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("found %s, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("findTemporalCLI(%q) = %q, %v; want %q", tt.flag, got, err, tt.want)
			}
		})
	}
}
