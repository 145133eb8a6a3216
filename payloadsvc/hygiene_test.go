package payloadsvc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

func TestHostAllowlist(t *testing.T) {
	auth, _ := NewTokenAuthorizer(map[string][]string{"a-token-of-sixteen+": {"*"}})
	for _, tc := range []struct {
		name  string
		opts  Options
		host  string
		allow bool
	}{
		{"no auth: foreign name", Options{}, "rebind.evil.example", false},
		{"no auth: foreign name with port", Options{}, "rebind.evil.example:8080", false},
		{"no auth: IPv4 literal", Options{}, "10.1.2.3:8080", true},
		{"no auth: IPv6 literal", Options{}, "[fe80::1]:8080", true},
		{"no auth: localhost", Options{}, "localhost:8080", true},
		{"no auth: a.localhost", Options{}, "ui.localhost", true},
		{"no auth: public URL host", Options{PublicURL: "https://Payloads.Example.com"}, "payloads.example.com.", true},
		{"no auth: listed", Options{AllowedHosts: []string{"svc.internal:9000"}}, "SVC.internal", true},
		{"no auth: star", Options{AllowedHosts: []string{"*"}}, "anything.example", true},
		{"no auth: no Host", Options{}, "", true},
		{"auth: any name", Options{Authorizer: auth}, "rebind.evil.example", true},
		{"auth with a list: foreign", Options{Authorizer: auth, AllowedHosts: []string{"svc.internal"}}, "rebind.evil.example", false},
	} {
		a, err := newHostAllowlist(tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.allows(tc.host); got != tc.allow {
			t.Errorf("%s: allows(%q) = %v, want %v", tc.name, tc.host, got, tc.allow)
		}
	}
	for _, bad := range []string{"http://x", "a b", "x/y", ""} {
		if _, err := newHostAllowlist(Options{AllowedHosts: []string{bad}}); err == nil {
			t.Errorf("AllowedHosts %q accepted", bad)
		}
	}
}

func TestScanPayloads(t *testing.T) {
	for _, tc := range []struct {
		body     string
		payloads int
	}{
		{`{}`, 0},
		{`{"payloads":[]}`, 0},
		{`{"payloads":[{}]}`, 1},
		{` { "payloads" : [ {} , {"data":"[,]"} , {"metadata":{"a":"b","c":"d"}} ] } `, 3},
		{`{"x":["payloads",[1,2,3]],"payloads":[{},{}]}`, 2},
		{`{"pay\u006coads":[{},{},{}]}`, 3},
		{`{"payloads":[{},{}],"payloads":[{}]}`, 3},
		{`{"payloads":[{},{},`, 3}, // truncated: counts what the parser would build, or more
		{`{"other":[{},{}]}`, 0},
		{`{"payloads":[{"data":"\"],[{}"}]}`, 1},
	} {
		if got := scanPayloads([]byte(tc.body), 100, 1000).payloads; got != tc.payloads {
			t.Errorf("scanPayloads(%s) = %d payloads, want %d", tc.body, got, tc.payloads)
		}
	}
	big := append(append([]byte(`{"payloads":[`), bytes.Repeat([]byte("{},"), 1<<20)...), "{}]}"...)
	if got := scanPayloads(big, 10, 1000).payloads; got <= 10 || got > 12 {
		t.Errorf("scan of a million payloads with a limit of 10 = %d, want it to stop just over 10", got)
	}
	allocs := testing.AllocsPerRun(5, func() { scanPayloads(big, 1<<30, 1<<30) })
	if allocs > 0 {
		t.Errorf("scanPayloads allocates %v times", allocs)
	}
}

// TestAdmission: a codec request over the payload limit is 413, one that could never
// fit the in-flight budget is 413, and one that does not fit now is 503 with
// Retry-After; the budget is whole again afterwards.
func TestAdmission(t *testing.T) {
	svc := startService(t, nil, Options{MaxPayloadsPerRequest: 10, MaxInflightBytes: 1 << 20})
	many := append(append([]byte(`{"payloads":[`), bytes.Repeat([]byte("{},"), 20)...), "{}]}"...)
	if status, _, body := svc.do(t, "POST", "/codec/default/decode", many, nil); status != 413 || !strings.Contains(string(body), "payloads") {
		t.Errorf("21 payloads over a limit of 10: %d %s, want 413", status, body)
	}
	store := memstore.New()
	c, _ := codec.New(store, codec.Options{Threshold: 1})
	ref, err := c.Offload(context.Background(), jsonPayload(t, strings.Repeat("x", 2<<20)))
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := svc.do(t, "POST", "/codec/default/decode", payloadsJSON(t, ref), nil); status != 413 || !strings.Contains(string(body), "max-inflight-bytes") {
		t.Errorf("a 2 MiB reference under a 1 MiB budget: %d %s, want 413 naming the limit", status, body)
	}
	res := &reservation{b: svc.h.inflight}
	if err := res.add("test", 1<<20-100); err != nil {
		t.Fatal(err)
	}
	status, hdr, body := svc.do(t, "POST", "/codec/default/decode", payloadsJSON(t, jsonPayload(t, "small")), nil)
	if status != 503 || hdr.Get("Retry-After") == "" {
		t.Errorf("a request while the budget is taken: %d %s, Retry-After %q; want 503 with Retry-After", status, body, hdr.Get("Retry-After"))
	}
	res.release()
	if status, _, body := svc.do(t, "POST", "/codec/default/decode", payloadsJSON(t, jsonPayload(t, "small")), nil); status != 200 {
		t.Errorf("after the budget is free: %d %s", status, body)
	}
	if n := svc.h.inflight.inUse(); n != 0 {
		t.Errorf("%d bytes still reserved after the requests", n)
	}
}

// panicStore panics on Get, as a buggy driver would.
type panicStore struct{ *memstore.Store }

func (panicStore) Get(context.Context, string) (io.ReadCloser, error) { panic("driver bug") }

// TestPanicsBecome500: a panic in the handler's goroutine or in one of the codec's
// parallel goroutines is a 500 with a request id, logged with its stack, and the
// service goes on.
func TestPanicsBecome500(t *testing.T) {
	svc := startService(t, panicStore{memstore.New()}, Options{Codec: codec.Options{CacheBytes: -1}})
	c, _ := codec.New(memstore.New(), codec.Options{Threshold: 1})
	var refs []*commonpb.Payload
	for _, s := range []string{"one", "two", "three"} {
		ref, err := c.Offload(context.Background(), jsonPayload(t, s))
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	for name, body := range map[string][]byte{"one reference (handler goroutine)": payloadsJSON(t, refs[0]), "three (parallel goroutines)": payloadsJSON(t, refs...)} {
		status, _, out := svc.do(t, "POST", "/codec/default/decode", body, nil)
		var eb errorBody
		_ = json.Unmarshal(out, &eb)
		if status != 500 || eb.RequestID == "" || strings.Contains(eb.Error, "driver bug") {
			t.Errorf("%s: %d %s, want 500 with a request id and no panic text", name, status, out)
		}
	}
	if status, _, _ := svc.do(t, "GET", "/healthz", nil, nil); status != 200 {
		t.Fatalf("after the panics /healthz is %d", status)
	}
	if logs := svc.logs.String(); !strings.Contains(logs, "driver bug") || !strings.Contains(logs, "goroutine") {
		t.Errorf("the panics are not logged with a stack:\n%s", logs)
	}
}

// countingTouchStore counts Touch calls.
type countingTouchStore struct {
	*memstore.Store
	touches atomic.Int64
}

func (s *countingTouchStore) Touch(ctx context.Context, key string) (driver.Info, error) {
	s.touches.Add(1)
	return s.Store.Touch(ctx, key)
}

func TestReadyzProbesOncePerInterval(t *testing.T) {
	store := &countingTouchStore{Store: memstore.New()}
	svc := startService(t, store, Options{ReadyInterval: time.Hour})
	for i := 0; i < 20; i++ {
		if status, _, _ := svc.do(t, "GET", "/readyz", nil, nil); status != 200 {
			t.Fatalf("/readyz: %d", status)
		}
	}
	if n := store.touches.Load(); n != 1 {
		t.Fatalf("20 /readyz cost %d store requests, want 1", n)
	}
}

func TestTokensFileChecks(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	long := "0123456789abcdef0123456789abcdef default\n"
	if _, err := LoadTokensFile(write("writable", 0o620, long)); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Errorf("group-writable tokens file: err = %v, want a refusal", err)
	}
	if _, err := LoadTokensFile(write("world", 0o602, long)); err == nil {
		t.Error("world-writable tokens file accepted")
	}
	a, err := LoadTokensFile(write("readable", 0o644, long+"short default\n"))
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(a.Warnings(), "\n")
	if !strings.Contains(w, "readable by group or others") || !strings.Contains(w, "line 2: token is 5 characters") || strings.Contains(w, "short default") {
		t.Errorf("warnings %q: want the file mode and line 2's short token (not the token itself)", w)
	}
	a, err = LoadTokensFile(write("private", 0o600, long))
	if err != nil || len(a.Warnings()) != 0 {
		t.Errorf("a private file with a long token: %v, warnings %q", err, a.Warnings())
	}
}

// TestMetricsTokenAndRegisterer: /metrics behind a token, on prometheus's default
// registerer (a Registerer and Gatherer, not a *Registry in the field's type).
func TestMetricsTokenAndRegisterer(t *testing.T) {
	reg := prometheus.NewRegistry()
	svc := startService(t, nil, Options{Registry: prometheus.WrapRegistererWithPrefix("", reg), Gatherer: reg, MetricsToken: "metrics-token-0123456789"})
	if status, _, _ := svc.do(t, "GET", "/metrics", nil, nil); status != 401 {
		t.Errorf("/metrics without the token: %d, want 401", status)
	}
	status, _, body := svc.do(t, "GET", "/metrics", nil, map[string]string{"Authorization": "Bearer metrics-token-0123456789"})
	if status != 200 || !strings.Contains(string(body), "payloadsvc_requests_total") {
		t.Errorf("/metrics with the token: %d", status)
	}
	if _, err := NewHandler(memstore.New(), Options{Registry: prometheus.WrapRegistererWithPrefix("", reg)}); err == nil {
		t.Error("a Registerer that is not a Gatherer, without a Gatherer, was accepted")
	}
	def := startService(t, nil, Options{Registry: prometheus.DefaultRegisterer, NoMetricsRoute: true})
	if status, _, _ := def.do(t, "GET", "/metrics", nil, nil); status != 404 {
		t.Errorf("/metrics with NoMetricsRoute: %d, want 404", status)
	}
}

// TestKeepAliveAndEarlyClose: a PUT read to its end keeps the connection for the next
// request; an answer before the body is read closes it without waiting for the body.
func TestKeepAliveAndEarlyClose(t *testing.T) {
	auth, _ := NewTokenAuthorizer(map[string][]string{"keepalive-token-0123": {"*"}})
	svc := startService(t, nil, Options{Authorizer: auth})
	reused := 0
	for i := 0; i < 3; i++ {
		b, digest := randomBlob(t, 300<<10)
		req, _ := http.NewRequest("PUT", svc.URL+"/v1/namespaces/default/blobs/sha256/"+digest, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer keepalive-token-0123")
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
			if i.Reused {
				reused++
			}
		}}))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 || resp.Close {
			t.Fatalf("PUT: %d, close %v; want 201 on a connection kept open", resp.StatusCode, resp.Close)
		}
	}
	if reused != 2 {
		t.Errorf("%d of 3 PUTs reused the connection, want 2", reused)
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequestWithContext(testCtx(t, 10*time.Second), "PUT", svc.URL+"/v1/namespaces/default/blobs/sha256/"+strings.Repeat("ab", 32), pr)
	req.ContentLength = 1 << 20
	go func() { _, _ = pw.Write([]byte("abc")) }()
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil && !errors.Is(err, io.ErrClosedPipe) {
		t.Fatal(err)
	}
	if resp == nil || resp.StatusCode != 401 || !resp.Close || time.Since(start) > 5*time.Second {
		t.Fatalf("unauthenticated PUT with a held-back body: %v after %s, want 401 with Connection: close at once", resp, time.Since(start))
	}
	resp.Body.Close()
}

// TestDedupeProbe404IsQuiet: a HEAD for a missing blob (the Client's existence check)
// is a normal answer: it is not logged at info level, nor as an error.
func TestDedupeProbe404IsQuiet(t *testing.T) {
	svc := startService(t, nil, Options{})
	if status, _, _ := svc.do(t, "HEAD", "/v1/namespaces/default/blobs/sha256/"+strings.Repeat("cd", 32), nil, nil); status != 404 {
		t.Fatalf("HEAD of a missing blob: %d, want 404", status)
	}
	svc.do(t, "GET", "/nope", nil, nil) // an info line, so the log is known to work
	logs := svc.logs.String()
	if strings.Contains(logs, "method=HEAD") || strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "path=/nope") {
		t.Errorf("the 404 of a dedupe probe is in the info log:\n%s", logs)
	}
}

// TestBodyReadTimeout: a codec request whose body does not arrive within
// BodyReadTimeout is answered 408 and its connection closed.
func TestBodyReadTimeout(t *testing.T) {
	svc := startService(t, nil, Options{BodyReadTimeout: 200 * time.Millisecond})
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequestWithContext(testCtx(t, 10*time.Second), "POST", svc.URL+"/codec/default/decode", pr)
	req.ContentLength = 1000
	req.Header.Set("Content-Type", "application/json")
	go func() { _, _ = pw.Write([]byte(`{"payloads":[`)) }()
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || !resp.Close || time.Since(start) > 5*time.Second {
		t.Fatalf("held-back codec body: %d, close %v after %s; want 408 and a closed connection within the timeout", resp.StatusCode, resp.Close, time.Since(start))
	}
}
