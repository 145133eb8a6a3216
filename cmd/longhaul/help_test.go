package main

import (
	"strings"
	"testing"
	"time"
)

// Each subcommand's --help shows what it promises: its flags (with the temporal CLI's
// connection names and variables), examples, verdicts and exit codes.
func TestHelp(t *testing.T) {
	conn := []string{"--address", "--namespace", "--api-key", "--tls", "--tls-cert-path", "--tls-key-path", "--tls-ca-path",
		"--tls-server-name", "--tls-disable-host-verification", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY",
		"TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_SERVER_CA_CERT_PATH"}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"check", "fsck", "sweep", "Exit codes: 0 all good; 1 problems found; 2 usage error; 3 cannot tell"}},
		{[]string{"check", "retention", "--help"}, append([]string{"--store", "--max-run", "--retention", "--output", "Examples:",
			"longhaul check retention --store", "ok (0)", "would-delete-blobs-in-use", "no-expiry", "cannot-tell", "(3)",
			"max run + namespace retention + touch interval + 1 day margin", "assumed to run at most 30 days",
			"v1/ (SHA-256) and v2/ (BLAKE3)"}, conn...)},
		{[]string{"fsck", "--help"}, append([]string{"--store", "--query", "--verify", "--state", "--resume-from", "--datadog-url", "--temporal-s3-bucket",
			"--concurrency", "--output", "Examples:", "longhaul fsck --store", "workflow id, run id, event id and event type",
			"Exit codes: 0 every blob is good; 1 problems found; 3"}, conn...)},
		{[]string{"sweep", "uploads", "--help"}, []string{"--store", "--older-than", "--dry-run", "--output", "Examples:",
			"longhaul sweep uploads --store", "Committed blobs are never touched", "AbortMultipartUpload", ".uploads/",
			"uncommitted blocks", "v1/ (SHA-256), v2/ (BLAKE3)", "Exit codes: 0"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			if r.code != exitOK {
				t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("help lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

// Bad input is a usage error (exit 2) that names what is wrong.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown flag", nil, []string{"fsck", "--bogus"}, "unknown flag: --bogus"},
		{"unknown command", nil, []string{"check", "lifecycle"}, `unknown command "lifecycle"`},
		{"no store", nil, []string{"check", "retention"}, "--store is required"},
		{"no store fsck", nil, []string{"fsck"}, "--store is required"},
		{"no store sweep", nil, []string{"sweep", "uploads"}, "--store is required"},
		{"bad output", nil, []string{"sweep", "uploads", "--store", "mem://", "-o", "xml"}, `--output "xml": want text or json`},
		{"bad max-run", nil, []string{"check", "retention", "--store", "mem://", "--max-run", "3x"}, "want a duration like 30d"},
		{"bad older-than", nil, []string{"sweep", "uploads", "--store", "mem://", "--older-than", "-1h"}, "want a duration"},
		{"bad scheme", nil, []string{"sweep", "uploads", "--store", "ftp://x/y"}, `scheme "ftp" is not one of azblob, file, gs, http, https, mem, s3`},
		{"no debris store", nil, []string{"sweep", "uploads", "--store", "mem://"}, "leaves no upload debris"},
		{"bad env", []string{"TEMPORAL_TLS=maybe"}, []string{"check", "retention", "--store", "mem://"}, `TEMPORAL_TLS="maybe"`},
		{"cert without key", nil, []string{"check", "retention", "--store", "mem://", "--tls-cert-path", "c.pem"},
			"--tls-cert-path and --tls-key-path go together"},
		{"bad concurrency", nil, []string{"fsck", "--store", "mem://", "--concurrency", "0"}, "must be at least 1"},
		{"bad state file", nil, []string{"fsck", "--store", "mem://", "--state", "/dev/null"}, "state /dev/null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, tt.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

func TestParseDays(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"30d", 30 * 24 * time.Hour, false},
		{"36h", 36 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"0s", 0, false},
		{"d", 0, true},
		{"-1d", 0, true},
		{"1dx", 0, true},
		{"10", 0, true},
	}
	for _, tt := range tests {
		got, err := parseDays(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseDays(%q) = %v, %v", tt.in, got, err)
		}
	}
}
