package main

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLogsQuoteNoRequestData runs hostile codec and blob requests whose fields carry
// marker strings, with the log at debug level, and scans the log: none of the markers
// appears, while the clients were told what was wrong with their requests.
func TestLogsQuoteNoRequestData(t *testing.T) {
	p := start(t, nil, "--log-level", "debug")
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	refEnc := b64("json/longhaul-ref")
	ref := func(data string) string {
		return `{"metadata":{"encoding":"` + refEnc + `"},"data":"` + b64(data) + `"}`
	}
	hex := strings.Repeat("ab", 32)
	markers := []string{"zzmarkone", "MARK-COMPRESSION", "MARK-VERSION", "MARK-NOT-JSON", "MARK-META-KEY", "MARK-META-VALUE",
		"MARK-TRUNCATED", "MARK-UNKNOWN-FIELD", "MARK-ENCODE-DATA", "MARK-ENCODE-ENCODING", "MARK-NAMESPACE", "MARK-SIZE-TEXT", "MARK-BLOB-BODY"}
	bodies := []string{
		`{"payloads":[` + ref(`{"v":1,"sha256":"zzmarkone","size":5,"rawSize":5,"compression":"none"}`) + `]}`,
		`{"payloads":[` + ref(`{"v":1,"sha256":"`+hex+`","size":5,"rawSize":5,"compression":"MARK-COMPRESSION"}`) + `]}`,
		`{"payloads":[` + ref(`{"v":"MARK-VERSION"}`) + `]}`,
		`{"payloads":[` + ref(`MARK-NOT-JSON`) + `]}`,
		`{"payloads":[` + ref(`{"v":1,"sha256":"`+hex+`","size":"MARK-SIZE-TEXT"}`) + `]}`,
		`{"payloads":[{"metadata":{"MARK-META-KEY":"` + b64("MARK-META-VALUE") + `"},"data":"!!"}]}`,
		`{"payloads":[{"data":"MARK-TRUNCATED`,
		`{"payloads":[],"MARK-UNKNOWN-FIELD":{"x":"MARK-UNKNOWN-FIELD"}}`,
		`{"payloads":[{"metadata":{"encoding":"MARK-META-VALUE"}}], "payloads":[]}`,
	}
	told := 0
	for _, body := range bodies {
		status, out := request(t, "POST", p.url("/codec/default/decode"), strings.NewReader(body), "Content-Type", "application/json")
		if status == 200 && !strings.Contains(body, "UNKNOWN") {
			t.Errorf("hostile body %q: 200 %s", short([]byte(body)), short(out))
		}
		if status == 400 && (strings.Contains(string(out), "MARK") || strings.Contains(string(out), "zzmark")) {
			told++
		}
	}
	if told < 2 {
		t.Errorf("only %d answers described the bad field to the client", told)
	}
	enc := `{"payloads":[{"metadata":{"encoding":"` + b64("MARK-ENCODE-ENCODING") + `"},"data":"` + b64("MARK-ENCODE-DATA"+strings.Repeat("y", 300<<10)) + `"}]}`
	if status, out := request(t, "POST", p.url("/codec/default/encode"), strings.NewReader(enc), "Content-Type", "application/json"); status != 200 {
		t.Errorf("encode: %d %s", status, short(out))
	}
	if status, _ := request(t, "POST", p.url("/codec/decode"), strings.NewReader(`{"payloads":[]}`), "Content-Type", "application/json", "X-Namespace", "MARK-NAMESPACE/.."); status != 400 {
		t.Errorf("bad X-Namespace: %d, want 400", status)
	}
	if status, _ := request(t, "PUT", p.url("/v1/namespaces/default/blobs/sha256/"+hex), strings.NewReader("MARK-BLOB-BODY")); status != 400 {
		t.Errorf("PUT with a digest mismatch: %d, want 400", status)
	}
	logs := p.logs.String()
	if !strings.Contains(logs, "invalid reference") || !strings.Contains(logs, "malformed request body") {
		t.Fatalf("the log does not name the problems:\n%s", logs)
	}
	for _, m := range markers {
		if strings.Contains(logs, m) {
			t.Errorf("the log quotes the request's %q", m)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", logs)
	}
}

var metricsAddrRE = regexp.MustCompile(`msg="payloadsvc: serving /metrics" addr=(\S+)`)

// TestMetricsOwnAddressAndToken: with --metrics-listen, /metrics leaves the main
// address and is served on its own, behind --metrics-token-file's token; a tokens file
// that others may write is refused, short tokens and readable files are warned about.
func TestMetricsOwnAddressAndToken(t *testing.T) {
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "metrics-token")
	if err := os.WriteFile(tokFile, []byte("scrape-token-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, nil, "--metrics-listen", "127.0.0.1:0", "--metrics-token-file", tokFile)
	m := metricsAddrRE.FindStringSubmatch(p.logs.String())
	if m == nil {
		t.Fatalf("no metrics address in the log:\n%s", p.logs.String())
	}
	if status, _ := request(t, "GET", p.url("/metrics"), nil); status != 404 {
		t.Errorf("/metrics on the main address: %d, want 404", status)
	}
	if status, _ := request(t, "GET", "http://"+m[1]+"/metrics", nil); status != 401 {
		t.Errorf("/metrics without the token: %d, want 401", status)
	}
	status, body := request(t, "GET", "http://"+m[1]+"/metrics", nil, "Authorization", "Bearer scrape-token-0123456789abcdef")
	if status != 200 || !strings.Contains(string(body), "payloadsvc_requests_total") {
		t.Errorf("/metrics with the token: %d", status)
	}

	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("short default\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(tokens, 0o664)
	out, err := exec.Command(binary(t), "--listen", "127.0.0.1:0", "--auth-tokens-file", tokens).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "writable by group or others") {
		t.Errorf("group-writable tokens file: %v %s, want a refusal", err, out)
	}
	_ = os.Chmod(tokens, 0o644)
	p = start(t, []string{"LONGHAUL_AUTH_TOKENS_FILE=" + tokens})
	for _, want := range []string{"readable by group or others", "token is 5 characters, under 16"} {
		if !strings.Contains(p.logs.String(), want) {
			t.Errorf("no warning %q at start:\n%s", want, p.logs.String())
		}
	}
}
