package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// The hostile-network acceptance tests of issue 12, against the real binary.

// slowBodies opens n connections and on each sends head (a request with
// Content-Length: 100000) and 3 bytes of body, then nothing. Write errors are fine:
// the server may close connections it will not serve.
func slowBodies(t *testing.T, addr string, n int, head string) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, head+"abc")
	}
	return conns
}

func slowHead(method, path string, hdr ...string) string {
	return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n" + strings.Join(hdr, "") + "\r\n"
}

// healthzWithin asks /healthz on a new connection and fails unless 200 arrives in d.
func healthzWithin(t *testing.T, p *proc, d time.Duration) {
	t.Helper()
	c := &http.Client{Timeout: d, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	resp, err := c.Get(p.url("/healthz"))
	if err != nil {
		t.Fatalf("/healthz: %v after %s", err, time.Since(start))
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("/healthz: %d %q, want 200 ok", resp.StatusCode, body)
	}
	if el := time.Since(start); el > d {
		t.Fatalf("/healthz took %s, want under %s", el, d)
	} else {
		t.Logf("/healthz in %s", el)
	}
}

// TestSlowBodiesNoAuth: 1,000 connections that send a codec request's head and 3 of
// its 100,000 bytes, to a binary without auth whose open-file limit is 256 (the cap is
// then derived from it): /healthz still answers within 1 s, other requests over the
// cap get 503 with Retry-After, and the process keeps serving when they go away.
func TestSlowBodiesNoAuth(t *testing.T) {
	p := startIn(t, "ulimit -n 256", nil)
	if !strings.Contains(p.logs.String(), "max_connections=144") {
		t.Fatalf("the cap was not derived from the file limit of 256 (want 144):\n%s", p.logs.String())
	}
	slowBodies(t, p.addr, 1000, slowHead("POST", "/codec/default/decode", "Content-Type: application/json\r\n"))
	waitFor(t, 10*time.Second, "the connection cap to be reached", func() bool {
		return strings.Contains(p.logs.String(), "open connections reached the cap")
	})
	for i := 0; i < 5; i++ {
		healthzWithin(t, p, time.Second)
	}
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(p.url("/readyz"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("/readyz over the cap: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	healthzWithin(t, p, time.Second)
}

// TestSlowBodiesAuth: with auth, 1,000 slow unauthenticated blob uploads are each
// answered 401 at once and their connections closed (the server does not wait for the
// body first), and /healthz answers within 1 s while the clients hold their sockets.
func TestSlowBodiesAuth(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("a-long-enough-token-for-tests default\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startIn(t, "ulimit -n 256", []string{"LONGHAUL_AUTH_TOKENS_FILE=" + tokens})
	head := slowHead("PUT", "/v1/namespaces/default/blobs/sha256/"+strings.Repeat("ab", 32))

	// One first, timed: 401 within a second, then the server closes.
	one := slowBodies(t, p.addr, 1, head)[0]
	_ = one.SetReadDeadline(time.Now().Add(time.Second))
	br := bufio.NewReader(one)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer within 1s to a slow unauthenticated PUT: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 401 || !resp.Close {
		t.Fatalf("slow unauthenticated PUT: %d, close %v; want 401 and Connection: close", resp.StatusCode, resp.Close)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the 401 the connection is still open (read: %v)", err)
	}

	conns := slowBodies(t, p.addr, 1000, head)
	for i := 0; i < 5; i++ {
		healthzWithin(t, p, time.Second)
	}
	answered := 0
	for _, c := range conns[:100] {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil && (resp.StatusCode == 401 || resp.StatusCode == 503) {
			answered++
		}
	}
	if answered < 90 {
		t.Fatalf("%d of 100 slow unauthenticated PUTs were answered (401 or 503) within 2s", answered)
	}
}

// encodeBody is a codec request body with one payload over the offload threshold.
func encodeBody(t *testing.T, marker string) []byte {
	t.Helper()
	data := base64.StdEncoding.EncodeToString([]byte(`"` + marker + strings.Repeat("x", 300<<10) + `"`))
	return []byte(`{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"` + data + `"}]}`)
}

// storedFiles counts the blobs under a filestore directory.
func storedFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	for _, version := range driver.KeyVersions() { // v1/... and v2/...
		_ = filepath.WalkDir(filepath.Join(dir, version), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
	}
	return n
}

// TestCrossSiteStoresNothing: a page on another site can send a POST without a
// preflight only as text/plain or a form; the codec refuses those (415), and a
// DNS-rebound name is refused (421), so nothing is stored. The same request as the
// SDK sends it stores the blob, so the count can tell.
func TestCrossSiteStoresNothing(t *testing.T) {
	dir := t.TempDir()
	p := start(t, nil, "--store", "file://"+dir)
	body := encodeBody(t, "cross-site")
	for _, tc := range []struct {
		name, ctype, host string
		want              int
	}{
		{"text/plain from another site", "text/plain", "", 415},
		{"form from another site", "application/x-www-form-urlencoded", "", 415},
		{"no content type", "", "", 415},
		{"JSON through a rebound name", "application/json", "rebind.evil.example", 421},
	} {
		hdr := []string{"Origin", "http://evil.example"}
		if tc.ctype != "" {
			hdr = append(hdr, "Content-Type", tc.ctype)
		}
		if tc.host != "" {
			hdr = append(hdr, "Host", tc.host)
		}
		status, out := request(t, "POST", p.url("/codec/default/encode"), bytes.NewReader(body), hdr...)
		if status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, status, out, tc.want)
		}
		if n := storedFiles(t, dir); n != 0 {
			t.Fatalf("%s: %d blobs stored, want none", tc.name, n)
		}
	}
	if status, out := request(t, "POST", p.url("/codec/default/encode"), bytes.NewReader(body), "Content-Type", "application/json"); status != 200 {
		t.Fatalf("the SDK's request: %d %s", status, out)
	}
	if n := storedFiles(t, dir); n != 1 {
		t.Fatalf("the SDK's request stored %d blobs, want 1", n)
	}
}

// TestForeignHostRefused: without auth, a Host the service was not told about gets
// 421 on every route but /healthz; IP literals, localhost, --public-url's host and
// --allowed-host names are answered.
func TestForeignHostRefused(t *testing.T) {
	p := start(t, nil, "--public-url", "https://payloads.example.com", "--allowed-host", "svc.internal")
	_, port, _ := net.SplitHostPort(p.addr)
	for _, tc := range []struct {
		host, path string
		want       int
	}{
		{"rebind.evil.example", "/metrics", 421},
		{"rebind.evil.example:" + port, "/readyz", 421},
		{"rebind.evil.example", "/v1/namespaces/default/blobs/sha256/" + strings.Repeat("ab", 32), 421},
		{"rebind.evil.example", "/healthz", 200},
		{"127.0.0.1:" + port, "/metrics", 200},
		{"localhost:" + port, "/metrics", 200},
		{"[::1]:" + port, "/metrics", 200},
		{"payloads.example.com", "/metrics", 200},
		{"SVC.internal:" + port, "/metrics", 200},
	} {
		if status, out := request(t, "GET", p.url(tc.path), nil, "Host", tc.host); status != tc.want {
			t.Errorf("GET %s with Host %s: %d %s, want %d", tc.path, tc.host, status, short(out), tc.want)
		}
	}
	if strings.Contains(p.logs.String(), "level=ERROR") {
		t.Errorf("refused Hosts logged as errors:\n%s", p.logs.String())
	}
}

func short(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// TestErrorsDiscloseNothing: every error a client sees is short, carries the request
// id, and names no filesystem path, bucket, prefix or key, for a file store (missing,
// corrupt) and an S3 store that is down.
func TestErrorsDiscloseNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secret-dir-name")
	good, goodHex := blob(t, 1000)
	_ = good
	_, missingHex := blob(t, 1000)
	corrupt := filepath.Join(dir, "v1", "default", "sha256", goodHex[:2], goodHex)
	if err := os.MkdirAll(filepath.Dir(corrupt), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(corrupt, bytes.Repeat([]byte("x"), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	fileSvc := start(t, nil, "--store", "file://"+dir)
	// An S3 endpoint that refuses everything, naming the bucket and key as S3 does.
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><Resource>%s</Resource><RequestId>1</RequestId></Error>`, r.URL.Path)
	}))
	t.Cleanup(denied.Close)
	s3Svc := start(t, []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true"},
		"--store", "s3://secret-bucket-name/secret-prefix?endpoint="+denied.URL+"&region=us-east-1")
	ref := func(hex string) []byte {
		data := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, `{"v":1,"sha256":"%s","size":1000,"rawSize":1000,"compression":"none"}`, hex))
		return []byte(`{"payloads":[{"metadata":{"encoding":"anNvbi9sb25naGF1bC1yZWY="},"data":"` + data + `"}]}`)
	}
	json := []string{"Content-Type", "application/json"}
	type req struct {
		p            *proc
		method, path string
		body         []byte
		want         int
	}
	blobPath := func(hex string) string { return "/v1/namespaces/default/blobs/sha256/" + hex }
	for _, r := range []req{
		{fileSvc, "POST", "/codec/default/decode", ref(missingHex), 404},
		{fileSvc, "POST", "/codec/default/decode", ref(goodHex), 502},
		{fileSvc, "GET", blobPath(missingHex), nil, 404},
		{s3Svc, "POST", "/codec/default/decode", ref(missingHex), 503},
		{s3Svc, "POST", "/codec/default/encode", encodeBody(t, "s3-down"), 503},
		{s3Svc, "GET", blobPath(missingHex), nil, 503},
		{s3Svc, "PUT", blobPath(goodHex), good, 503},
		{s3Svc, "GET", "/readyz", nil, 503},
	} {
		var body io.Reader
		if r.body != nil {
			body = bytes.NewReader(r.body)
		}
		status, out := request(t, r.method, r.p.url(r.path), body, json...)
		if status != r.want {
			t.Errorf("%s %s: %d %s, want %d", r.method, r.path, status, short(out), r.want)
			continue
		}
		checkErrorBody(t, r.method+" "+r.path, out, dir, "secret-dir-name", "secret-bucket-name", "secret-prefix", "v1/default", "v2/default", denied.URL, "sha256/", "blake3/",
			"AccessDenied")
	}
	// The details are in the log, under the request id.
	if !strings.Contains(s3Svc.logs.String(), "secret-bucket-name") || !strings.Contains(fileSvc.logs.String(), "corrupt") {
		t.Errorf("the log lacks the details of the failures")
	}
}

// checkErrorBody fails unless out is {"error","requestId"} with none of secrets.
func checkErrorBody(t *testing.T, what string, out []byte, secrets ...string) {
	t.Helper()
	var eb struct {
		Error     string `json:"error"`
		RequestID string `json:"requestId"`
	}
	if err := json.Unmarshal(out, &eb); err != nil || eb.Error == "" || eb.RequestID == "" {
		t.Errorf("%s: body %q is not {\"error\",\"requestId\"}", what, short(out))
		return
	}
	for _, s := range secrets {
		if strings.Contains(string(out), s) {
			t.Errorf("%s: the client sees %q: %s", what, s, out)
		}
	}
}
