package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"

	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// Helpers for the tests of issue 20 ("one door for every reference"): hostile references
// of every kind against the built binary, with the service's RSS measured per phase.

// rssTarget is the slack over the in-flight budget that peak RSS growth may reach.
const rssTarget = 64 << 20

// memoryBound is the memory bound for a service with an in-flight budget: GOMEMLIMIT at
// the RSS target, and an address-space limit of what the Go runtime reserves (about
// 1.25 GiB without cgo) plus twice the target, never below memoryLimits, so a blow-up
// kills the process instead of the machine while the safe answer fits with room to spare.
func memoryBound(budget int64) (limits string, env []string) {
	target := budget + rssTarget
	return fmt.Sprintf("ulimit -v %d", max(1572864, (5<<28+2*target)>>10)), []string{fmt.Sprintf("GOMEMLIMIT=%dMiB", target>>20)}
}

// startBounded starts the binary under memoryBound(budget) with --max-inflight-bytes
// budget, more environment and more flags.
func startBounded(t *testing.T, budget int64, env []string, args ...string) *proc {
	t.Helper()
	limits, memEnv := memoryBound(budget)
	return startIn(t, limits, append(memEnv, env...), append([]string{"--max-inflight-bytes", strconv.FormatInt(budget, 10)}, args...)...)
}

// doorDo sends a request to p and returns the answer; a transport failure is reported
// (with the service's fatal error when it died, say out of memory) and gives status 0.
func doorDo(t *testing.T, p *proc, method, path string, body []byte, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, p.url(path), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Errorf("%s %s: %v%s", method, path, err, p.died())
		return 0, nil, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

// died describes how the process ended, or is "" while it runs.
func (p *proc) died() string {
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(2 * time.Second):
		return ""
	}
	var fatal []string
	for _, line := range strings.Split(p.logs.String(), "\n") {
		if strings.HasPrefix(line, "fatal error") || strings.HasPrefix(line, "runtime: out of memory") || strings.HasPrefix(line, "panic:") {
			fatal = append(fatal, line)
		}
	}
	return fmt.Sprintf("; payloadsvc died: %s", strings.Join(fatal, "; "))
}

// post is doorDo of a codec POST that stops the test when the service is gone.
func post(t *testing.T, p *proc, path string, body []byte, hdr ...string) (int, []byte) {
	t.Helper()
	status, _, out := doorDo(t, p, "POST", path, body, append(append([]string{}, jsonHdr...), hdr...)...)
	if status == 0 {
		t.FailNow()
	}
	return status, out
}

// procStatus reads one "<field>: N kB" line of /proc/pid/status, in bytes.
func procStatus(t *testing.T, p *proc, field string) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("read the process status: %v", err)
	}
	m := regexp.MustCompile(field + `:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		t.Fatalf("no %s in /proc/pid/status", field)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// rssBaseline resets the process's peak RSS (VmHWM) to its current RSS and returns that:
// what follows is measured from here, not from the set-up that came before.
func rssBaseline(t *testing.T, p *proc) int64 {
	t.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.cmd.Process.Pid), []byte("5"), 0); err != nil {
		t.Fatalf("reset the peak RSS: %v", err)
	}
	return procStatus(t, p, "VmRSS")
}

// checkGrowth logs the peak RSS growth since base (for the notes) and fails over limit.
func checkGrowth(t *testing.T, p *proc, what string, base, limit int64) {
	t.Helper()
	checkPeak(t, what, base, procStatus(t, p, "VmHWM"), limit)
}

// checkPeak is checkGrowth for a peak measured by the caller (over several phases).
func checkPeak(t *testing.T, what string, base, peak, limit int64) {
	t.Helper()
	t.Logf("%s: RSS baseline %d MiB, peak %d MiB, growth %d MiB (target <= %d MiB)", what, base>>20, peak>>20, (peak-base)>>20, limit>>20)
	if peak-base > limit {
		t.Errorf("%s: peak RSS grew by %d MiB, want at most %d MiB", what, (peak-base)>>20, limit>>20)
	}
}

// storedBlob is a payload as the codec stores it: serialized, zstd-compressed when
// compress is set. It returns the blob and the serialized length.
func storedBlob(t *testing.T, serialized []byte, compress bool) []byte {
	t.Helper()
	if !compress {
		return serialized
	}
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(serialized); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// putBlobAs stores b in namespace ns through the blob API with the given headers
// (a bearer token) and returns its digest.
func putBlobAs(t *testing.T, p *proc, ns string, b []byte, hdr ...string) string {
	t.Helper()
	sum := sha256.Sum256(b)
	digest := hex.EncodeToString(sum[:])
	path := "/v1/namespaces/" + ns + "/blobs/sha256/" + digest
	if status, out := request(t, "PUT", p.url(path), bytes.NewReader(b), hdr...); status != 201 && status != 200 {
		t.Fatalf("PUT blob in %s: %d %s", ns, status, short(out))
	}
	return digest
}

// payloadsBody is a /codec request body holding ps.
func payloadsBody(t *testing.T, ps ...*commonpb.Payload) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(`{"payloads":[`)
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		j, err := protojson.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// decodedPayloads parses a /codec answer.
func decodedPayloads(t *testing.T, out []byte) []*commonpb.Payload {
	t.Helper()
	var raw struct {
		Payloads []json.RawMessage `json:"payloads"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("codec answer %q: %v", short(out), err)
	}
	ps := make([]*commonpb.Payload, len(raw.Payloads))
	for i, r := range raw.Payloads {
		ps[i] = &commonpb.Payload{}
		if err := protojson.Unmarshal(r, ps[i]); err != nil {
			t.Fatalf("codec answer payload %d: %v", i, err)
		}
	}
	return ps
}

// jsonHdr is the Content-Type every codec POST sends.
var jsonHdr = []string{"Content-Type", "application/json"}

// bearer is the header of a bearer token.
func bearer(token string) []string {
	return []string{"Authorization", "Bearer " + token}
}

// serialize marshals p deterministically.
func serialize(t *testing.T, p *commonpb.Payload) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dataDogKey is the v2 key DataDog's service gives a blob (testenv.DataDogKey).
func dataDogKey(ns, digest string, md map[string][]byte) string {
	key, err := testenv.DataDogKey(ns, digest, md)
	if err != nil {
		panic(err)
	}
	return key
}

// dataDogRef is the reference payload DataDog's codec leaves for a payload with metadata md
// whose Data has digest sum and claimed size, stored under key: the default converter's
// json/plain of {metadata, size, digest, key} plus "temporal.io/remote-codec".
func dataDogRef(t *testing.T, version, key, digest string, size int64, md map[string][]byte) *commonpb.Payload {
	t.Helper()
	data, err := json.Marshal(map[string]any{"metadata": md, "size": size, "digest": digest, "key": key})
	if err != nil {
		t.Fatal(err)
	}
	return &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("json/plain"), "temporal.io/remote-codec": []byte(version)},
		Data:     data,
	}
}

// ddDouble is a stand-in for DataDog's large-payload service: GET /v2/blobs/get?key= and
// /v1/blobs/get?digest= with the headers its handlers require answer what serve says for
// the key or digest. It counts requests.
type ddDouble struct {
	*httptest.Server
	mu    sync.Mutex
	blobs map[string]http.HandlerFunc
	gets  int
}

func startDD(t *testing.T) *ddDouble {
	t.Helper()
	d := &ddDouble{blobs: map[string]http.HandlerFunc{}}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("key")
		if r.URL.Path == "/v1/blobs/get" {
			id = r.URL.Query().Get("digest")
		}
		d.mu.Lock()
		d.gets++
		h, ok := d.blobs[id]
		d.mu.Unlock()
		if !ok || (r.URL.Path != "/v1/blobs/get" && r.URL.Path != "/v2/blobs/get") {
			http.NotFound(w, r)
			return
		}
		if why := ddRefuses(r); why != "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, why)
			return
		}
		h(w, r)
	}))
	t.Cleanup(d.Close)
	return d
}

// ddRefuses is why DataDog's GET handlers (server/handler/v1, v2) answer 400 to r, or "":
// they require Content-Type application/octet-stream and a decimal
// X-Payload-Expected-Content-Length.
func ddRefuses(r *http.Request) string {
	if r.Header.Get("Content-Type") != "application/octet-stream" {
		return "missing or incorrect Content-Type header"
	}
	if _, err := strconv.ParseUint(r.Header.Get("X-Payload-Expected-Content-Length"), 10, 64); err != nil {
		return "expected content length header is required"
	}
	return ""
}

// serve answers GETs of id (a v2 key or a v1 digest) with h.
func (d *ddDouble) serve(id string, h http.HandlerFunc) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.blobs[id] = h
}

// serveBytes answers GETs of id with b.
func (d *ddDouble) serveBytes(id string, b []byte) {
	d.serve(id, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	})
}

func (d *ddDouble) requests() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.gets
}

// digestOf is DataDog's "sha256:<hex>" of b.
func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// mustNotContain fails when a payload of a codec answer holds marker: data the caller
// may not see.
func mustNotContain(t *testing.T, what string, status int, out []byte, marker string) {
	t.Helper()
	if status != 200 {
		return
	}
	for _, p := range decodedPayloads(t, out) {
		if strings.Contains(string(p.GetData()), marker) {
			t.Errorf("%s: the answer holds the other namespace's data (%q)", what, marker)
		}
	}
}
