package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestConfigPrecedence: built-in default < environment < command line.
func TestConfigPrecedence(t *testing.T) {
	c, err := parseConfig([]string{"--max-blob-bytes", "2MiB", "--cors-origin", "http://a:1", "--cors-origin", "http://b:2"}, env(map[string]string{
		"LONGHAUL_MAX_BLOB_BYTES": "1KiB",
		"LONGHAUL_STORE":          "file:///srv/blobs",
		"LONGHAUL_CORS_ORIGIN":    "http://env:1, http://env:2",
		"LONGHAUL_DOWNLOAD_TTL":   "1h",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.maxBlobBytes != 2<<20 || c.store != "file:///srv/blobs" || c.downloadTTL != time.Hour || c.listen != "127.0.0.1:8080" {
		t.Fatalf("config %+v: want flag over env over default", c)
	}
	if got := strings.Join(c.corsOrigins.values, " "); got != "http://a:1 http://b:2" {
		t.Fatalf("cors origins %q: the command line replaces the variable", got)
	}
	c, err = parseConfig(nil, env(map[string]string{"LONGHAUL_CORS_ORIGIN": "http://env:1,http://env:2"}), io.Discard)
	if err != nil || len(c.corsOrigins.values) != 2 {
		t.Fatalf("cors origins from the variable: %v, %v", c.corsOrigins.values, err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, map[string]string{"LONGHAUL_MAX_BLOB_BYTES": "lots"}, `LONGHAUL_MAX_BLOB_BYTES="lots"`},
		{nil, map[string]string{"LONGHAUL_DOWNLOAD_TTL": "soon"}, "LONGHAUL_DOWNLOAD_TTL"},
		{[]string{"--preview-bytes", "1TB"}, nil, "preview-bytes"},
		{[]string{"--tls-cert", "c.pem"}, nil, "--tls-cert and --tls-key go together"},
		{[]string{"--log-format", "xml"}, nil, "--log-format"},
		{[]string{"--nope"}, nil, "nope"},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
		{[]string{"--max-connections", "-1"}, nil, "--max-connections"},
		{[]string{"--max-connections", "lots"}, nil, "max-connections"},
		{[]string{"--max-inflight-bytes", "0"}, nil, "--max-inflight-bytes"},
		{nil, map[string]string{"LONGHAUL_MAX_PAYLOADS_PER_REQUEST": "0"}, "--max-payloads-per-request"},
		{[]string{"--body-read-timeout", "0s"}, nil, "--body-read-timeout"},
		{[]string{"--write-stall-timeout", "-1s"}, nil, "--write-stall-timeout"},
		{[]string{"--hash", "md5"}, nil, "--hash"},
		{nil, map[string]string{"LONGHAUL_HASH": "SHA256"}, "--hash"},
	} {
		_, err := parseConfig(tc.args, env(tc.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseConfig(%q, %v): err = %v, want one naming %q", tc.args, tc.env, err, tc.want)
		}
	}
	if _, err := parseConfig([]string{"--help"}, env(nil), io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: err = %v, want flag.ErrHelp", err)
	}
}

// TestSizeFlags: sizes take binary units; a bad one names the flag.
func TestSizeFlags(t *testing.T) {
	c, err := parseConfig([]string{"--max-blob-bytes", "64MiB", "--preview-bytes", "-1", "--max-codec-body-bytes", "512KiB"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.maxBlobBytes != 64<<20 || c.previewBytes != -1 || c.maxCodecBody != 512<<10 {
		t.Fatalf("sizes %d %d %d", c.maxBlobBytes, c.previewBytes, c.maxCodecBody)
	}
	if _, err := parseConfig([]string{"--max-blob-bytes", "1.5MiB"}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "max-blob-bytes") {
		t.Fatalf("bad size: err = %v, want one naming the flag", err)
	}
}

// buildBinary compiles the command once per test binary run.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "payloadsvc-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "payloadsvc")
		// Without cgo: its threads reserve 8 MiB of address space each, which would make
		// the address-space bound of the memory tests depend on the thread count.
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// TestHelpNamesEveryFlag runs the real binary with --help.
func TestHelpNamesEveryFlag(t *testing.T) {
	out, err := exec.Command(binary(t), "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	for _, d := range (&config{}).defs() {
		v := envName(d.name)
		if !strings.Contains(string(out), "--"+d.name+"\n") || !strings.Contains(string(out), "env "+v+")") {
			t.Errorf("--help does not document --%s with %s", d.name, v)
		}
		def := d.def
		if def == "" {
			def = `""`
		}
		if !strings.Contains(string(out), "(default "+def+"; env "+v+")") {
			t.Errorf("--help does not give the default of --%s", d.name)
		}
	}
	for _, name := range []string{"listen", "store", "auth-tokens-file", "cors-origin", "tls-cert", "tls-key", "max-blob-bytes", "preview-bytes", "signing-key-file", "download-ttl"} {
		if !strings.Contains(string(out), "--"+name+"\n") {
			t.Errorf("--help lacks --%s, which the issue requires", name)
		}
	}
}

// proc is the binary running on a free port.
type proc struct {
	cmd  *exec.Cmd
	addr string
	logs *lockedBuffer
	done chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var listeningRE = regexp.MustCompile(`msg="payloadsvc: listening" addr=(\S+)`)

// start runs the binary with env (plus LONGHAUL_LISTEN on a free port) and waits for
// its "listening" line.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	return startIn(t, "", env, args...)
}

// startIn is start with the binary run by a bash script that sets limits first (say
// "ulimit -v 1048576"); the script execs the binary, so the process is the binary.
func startIn(t *testing.T, limits string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	if limits != "" {
		cmd = exec.Command("bash", append([]string{"-c", limits + ` && exec "$0" "$@"`, binary(t)}, args...)...)
	}
	cmd.Env = append(os.Environ(), append([]string{"LONGHAUL_LISTEN=127.0.0.1:0"}, env...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: &lockedBuffer{}, done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(p.logs, line)
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				addrc <- m[1]
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("payloadsvc log:\n%s", p.logs.String())
		}
	})
	select {
	case p.addr = <-addrc:
	case err := <-p.done:
		t.Fatalf("payloadsvc exited before listening: %v\n%s", err, p.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("payloadsvc did not listen within 30s\n%s", p.logs.String())
	}
	return p
}

func (p *proc) url(path string) string { return "http://" + p.addr + path }

func blob(t *testing.T, n int) ([]byte, string) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return b, hex.EncodeToString(s[:])
}

func request(t *testing.T, method, url string, body io.Reader, hdr ...string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestBinaryServesAndDrains runs the binary on mem:// configured by environment
// variables (auth on), does a PUT and a GET, then sends SIGTERM while a slow PUT is in
// flight: the listener closes, the slow PUT completes with 201, the process exits 0.
func TestBinaryServesAndDrains(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("bin-token default\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, []string{"LONGHAUL_STORE=mem://", "LONGHAUL_AUTH_TOKENS_FILE=" + tokens, "LONGHAUL_MAX_BLOB_BYTES=1KiB"},
		"--max-blob-bytes", "4MiB", "--shutdown-timeout", "20s")
	auth := []string{"Authorization", "Bearer bin-token"}

	b, digest := blob(t, 2<<20)
	path := p.url("/v1/namespaces/default/blobs/sha256/" + digest)
	if status, body := request(t, "PUT", path, bytes.NewReader(b)); status != 401 {
		t.Fatalf("PUT without token: %d %s, want 401 (tokens file from LONGHAUL_AUTH_TOKENS_FILE)", status, body)
	}
	if status, body := request(t, "PUT", path, bytes.NewReader(b), auth...); status != 201 {
		t.Fatalf("PUT: %d %s, want 201 (--max-blob-bytes overrides the variable)", status, body)
	}
	if status, body := request(t, "GET", path, nil, auth...); status != 200 || !bytes.Equal(body, b) {
		t.Fatalf("GET: %d, %d bytes; want 200 and the blob", status, len(body))
	}
	for _, ep := range []string{"/healthz", "/readyz", "/metrics"} {
		if status, body := request(t, "GET", p.url(ep), nil); status != 200 {
			t.Fatalf("GET %s: %d %s", ep, status, body)
		}
	}

	// A slow PUT: half the body now, the rest after SIGTERM.
	slow, slowDigest := blob(t, 1<<20)
	pr, pw := io.Pipe()
	slowDone := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("PUT", p.url("/v1/namespaces/default/blobs/sha256/"+slowDigest), pr)
		req.ContentLength = int64(len(slow)) // a blob PUT states its length
		req.Header.Set("Authorization", "Bearer bin-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			slowDone <- err
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 {
			err = fmt.Errorf("slow PUT: %d %s", resp.StatusCode, body)
		}
		slowDone <- err
	}()
	if _, err := pw.Write(slow[:len(slow)/2]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the slow PUT to be in flight", func() bool {
		_, m := request(t, "GET", p.url("/metrics"), nil)
		return bytes.Contains(m, []byte("payloadsvc_requests_in_flight 2"))
	})

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the listener to close", func() bool {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-p.done:
		t.Fatalf("process exited with a request in flight: %v", err)
	default:
	}
	if _, err := pw.Write(slow[len(slow)/2:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	select {
	case err := <-slowDone:
		if err != nil {
			t.Fatalf("in-flight PUT across SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("in-flight PUT did not finish")
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("process did not exit after draining")
	}
	logs := p.logs.String()
	for _, want := range []string{"shutting down", "payloadsvc: stopped", "store is mem://", "status=201"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(logs, "bin-token") {
		t.Error("log contains the token")
	}
}

// TestBinaryRefusesBadConfig: a bad setting stops the binary with a message naming it.
func TestBinaryRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want string
		code int
	}{
		{[]string{"--store", "ftp://bucket"}, "", "is not one of azblob, file, gs, http, https, mem, s3", 1},
		{nil, "LONGHAUL_PREVIEW_BYTES=big", "LONGHAUL_PREVIEW_BYTES", 2},
		{[]string{"--auth-tokens-file", "/nonexistent/tokens"}, "", "tokens file", 1},
	} {
		cmd := exec.Command(binary(t), tc.args...)
		cmd.Env = append(os.Environ(), "LONGHAUL_LISTEN=127.0.0.1:0", tc.env)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("payloadsvc %q %s: %v\n%s\nwant exit %d naming %q", tc.args, tc.env, err, out, tc.code, tc.want)
		}
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
