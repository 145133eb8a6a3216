package uitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/google/uuid"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testenv"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
)

// codecErrorBanner is what Temporal UI 2.42 shows when its codec endpoint fails.
const codecErrorBanner = "Codec Server could not connect"

// previewBytes: the 3 MiB input is decoded whole, the 40 MiB one is previewed.
const previewBytes = 8 << 20

// pageTimeout bounds the wait for one page; the UI shows a payload in seconds, but the
// machine is shared and `make test` runs this under the race detector.
const pageTimeout = 60 * time.Second

// Document is the workflow input: a marker the page must show, padded to size by rows.
type Document struct {
	Marker string   `json:"marker"` // first, so it is on the first lines the UI renders
	Rows   []string `json:"rows"`
}

// CountRows is the workflow: its input is all that matters here.
func CountRows(ctx workflow.Context, doc Document) (int, error) {
	return len(doc.Rows), nil
}

// newDocument returns a document of at least size bytes of JSON with a unique marker,
// and that JSON, which is the payload data the SDK stores.
func newDocument(t *testing.T, size, rowLen int) (Document, []byte) {
	t.Helper()
	doc := Document{Marker: "longhaul-uitest-" + uuid.NewString()}
	filler := strings.Repeat("x", rowLen)
	for n := len(doc.Marker); n < size; n += rowLen + len(`"000000 ",`) {
		doc.Rows = append(doc.Rows, fmt.Sprintf("%06d ", len(doc.Rows))+filler)
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, data
}

// env is one dev server with its UI, one worker and the payload service the UI's codec
// endpoint points at, on a port fixed before the dev server starts.
type env struct {
	ui         string // the UI's origin, http://127.0.0.1:U
	svc        string // the payload service, http://127.0.0.1:P
	store      codec.Store
	signingKey []byte
	handler    atomic.Pointer[http.Handler] // what serves svc; subtests swap it
	client     client.Client
	browser    *browser
}

const taskQueue = "uitest"

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{browser: requireBrowser(t), store: memstore.New(), signingKey: make([]byte, 32)}
	rand.Read(e.signingKey)

	// The UI learns its codec endpoint at start, so the service's port comes first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.svc = "http://" + ln.Addr().String()
	var unset http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "uitest: no payload service yet", http.StatusServiceUnavailable)
	})
	e.handler.Store(&unset)
	hs := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*e.handler.Load()).ServeHTTP(w, r) }),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	srv := testenv.Temporal(t, testenv.DevServerOptions{UI: true, UICodecEndpoint: e.svc + "/codec"})
	e.ui = srv.UIAddress

	c, err := codec.New(e.store, codec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.client = srv.Client(t, client.Options{DataConverter: codec.NewDataConverter(c, nil)})
	w := worker.New(e.client, taskQueue, worker.Options{})
	w.RegisterWorkflow(CountRows)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return e
}

// serve builds a payload service over the env's store, logging JSON into the returned
// buffer, and makes it what the UI's codec endpoint reaches until the test ends.
func (e *env) serve(t *testing.T, opts payloadsvc.Options) *logBuffer {
	t.Helper()
	logs := &logBuffer{}
	h := e.newHandler(t, opts, logs)
	old := e.handler.Swap(&h)
	t.Cleanup(func() { e.handler.Store(old) })
	return logs
}

// newHandler returns a payload service over the env's store with the env's signing key
// and preview limit, logging JSON lines to logs.
func (e *env) newHandler(t *testing.T, opts payloadsvc.Options, logs *logBuffer) http.Handler {
	t.Helper()
	opts.PreviewBytes = previewBytes
	opts.SigningKey = e.signingKey
	opts.TempDir = t.TempDir()
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := payloadsvc.NewHandler(e.store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// run executes CountRows on doc and returns the UI's history page of the run and the
// reference Temporal holds in place of the input (the test fails if it was not offloaded).
func (e *env) run(t *testing.T, doc Document) (string, codec.Reference) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id := "uitest-" + uuid.NewString() // not the marker: the page shows the id
	opts := client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: taskQueue,
		// The task decodes the whole input; 40 MiB of JSON under the race detector on two
		// shared cores can take longer than the default 10s.
		WorkflowTaskTimeout: time.Minute,
	}
	run, err := e.client.ExecuteWorkflow(ctx, opts, CountRows, doc)
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := run.Get(ctx, &rows); err != nil {
		t.Fatalf("workflow %s: %v", id, err)
	}
	if rows != len(doc.Rows) {
		t.Fatalf("workflow %s counted %d rows, want %d", id, rows, len(doc.Rows))
	}

	hist := e.client.GetWorkflowHistory(ctx, id, run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := hist.Next()
	if err != nil {
		t.Fatal(err)
	}
	input := first.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	if len(input) != 1 {
		t.Fatalf("workflow %s has %d input payloads, want 1", id, len(input))
	}
	ref, err := codec.ParseReference(input[0])
	if err != nil {
		t.Fatalf("workflow %s: the input in history is not an offloaded reference: %v", id, err)
	}
	historyURL := e.ui + "/namespaces/default/workflows/" + url.PathEscape(id) + "/" + url.PathEscape(run.GetRunID()) + "/history"
	return historyURL, ref
}

// TestTemporalUI reads offloaded payloads the way a person does: in the Temporal UI.
func TestTemporalUI(t *testing.T) {
	e := newEnv(t)

	t.Run("shows offloaded input decoded", func(t *testing.T) {
		logs := e.serve(t, payloadsvc.Options{CORSOrigins: []string{e.ui}})
		doc, data := newDocument(t, 3<<20, 64)
		historyURL, _ := e.run(t, doc)

		got := e.browser.open(t, page{
			URL: historyURL, Want: []string{doc.Marker}, StopOn: []string{codecErrorBanner},
			Screenshot: screenshotPath(t), Timeout: pageTimeout,
		})
		if !got.Found {
			t.Fatalf("the page does not show the input's marker %q %s", doc.Marker, got.describe())
		}
		if strings.Contains(got.Text, "longhaulPreview") {
			t.Errorf("the %d-byte input was previewed, want it whole (preview over %d bytes)", len(data), previewBytes)
		}
		if err := isPNG(got.Screenshot); err != nil {
			t.Errorf("screenshot %s: %v", got.Screenshot, err)
		}
		// The marker can only have come through the service: the browser's decode call,
		// with the UI's origin, answered with the whole input.
		whole := false
		for _, rec := range logs.records(map[string]any{"route": "decode", "status": 200, "namespace": "default", "origin": e.ui}) {
			n, _ := rec["bytes_out"].(float64)
			whole = whole || n >= float64(len(data))
		}
		if !whole {
			t.Errorf("payloadsvc logged no decode of the %d-byte input from origin %s:\n%s", len(data), e.ui, logs)
		}
	})

	t.Run("shows codec error when origin not allowed", func(t *testing.T) {
		// An allowlist, just not with the UI on it.
		logs := e.serve(t, payloadsvc.Options{CORSOrigins: []string{"http://127.0.0.1:1"}})
		doc, _ := newDocument(t, 3<<20, 64)
		historyURL, ref := e.run(t, doc)

		// The reference's digest on the page means the Input card is rendered, undecoded:
		// the marker's absence then says something.
		got := e.browser.open(t, page{
			URL: historyURL, Want: []string{codecErrorBanner, ref.SHA256}, StopOn: []string{doc.Marker},
			Screenshot: screenshotPath(t), Timeout: pageTimeout,
		})
		if !got.Found {
			t.Fatalf("the page does not show %q with the undecoded reference %s", codecErrorBanner, got.describe())
		}
		if strings.Contains(got.Text, doc.Marker) {
			t.Errorf("the page shows the marker %q although the codec server refused the UI", doc.Marker)
		}
		preflight := map[string]any{"level": "WARN", "origin": e.ui, "path": "/codec/decode", "request_method": "POST"}
		if !logs.has(preflight) {
			t.Errorf("payloadsvc did not log the refused preflight %v:\n%s", preflight, logs)
		}
		if !logs.has(map[string]any{"method": "OPTIONS", "route": "preflight", "status": 403, "origin": e.ui}) {
			t.Errorf("payloadsvc's access log has no 403 preflight from %s:\n%s", e.ui, logs)
		}
		if logs.has(map[string]any{"route": "decode"}) {
			t.Errorf("the browser sent a decode request despite the refused preflight:\n%s", logs)
		}
	})

	t.Run("shows preview of 40 MiB input with signed download", func(t *testing.T) {
		e.serve(t, payloadsvc.Options{CORSOrigins: []string{e.ui}})
		doc, data := newDocument(t, 40<<20, 1024)
		historyURL, ref := e.run(t, doc)
		sum := sha256.Sum256(data)

		// The preview as the UI renders it (pretty JSON): size, digest and the first KiB
		// (the document is ASCII, so the head is exactly that).
		head, err := json.Marshal(string(data[:1024]))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			`"longhaulPreview"`,
			`"size": ` + strconv.Itoa(len(data)),
			`"sha256": "` + ref.SHA256 + `"`,
			`"head": ` + string(head) + ",",
			`"download": "` + e.svc + "/v1/download/default/sha256/" + ref.SHA256 + "?",
		}
		got := e.browser.open(t, page{
			URL: historyURL, Want: want, StopOn: []string{codecErrorBanner},
			Screenshot: screenshotPath(t), Timeout: pageTimeout,
		})
		if !got.Found {
			t.Fatalf("the page does not show the preview %q %s", want, got.describe())
		}
		link := downloadLinkRE.FindString(got.Text)
		if link == "" {
			t.Fatalf("no download link on the page %s", got.describe())
		}

		// The page's link as a service whose links last a second makes it: the signing
		// key is shared, so once it has expired only its expiry is wrong with it.
		short := e.previewLink(t, ref, time.Second)
		if a, b := stripQuery(short, "exp", "sig"), stripQuery(link, "exp", "sig"); a != b {
			t.Fatalf("short-lived link %s differs from the page's %s beyond exp and sig", a, b)
		}
		exp, err := strconv.ParseInt(queryParam(t, short, "exp"), 10, 64)
		if err != nil {
			t.Fatalf("short-lived link %s: exp: %v", short, err)
		}
		time.Sleep(time.Until(time.Unix(exp+1, 0))) // a link is valid through its exp second

		for _, tc := range []struct {
			name     string
			link     string
			status   int
			wantBody string // for refusals, part of the error
		}{
			// The service checks the signature first: "expired" also says it held.
			{"as shown", link, http.StatusOK, ""},
			{"signature changed", changeSig(t, link), http.StatusForbidden, "signature"},
			{"expired", short, http.StatusForbidden, "expired"},
		} {
			status, body := fetch(t, http.MethodGet, tc.link)
			if status != tc.status {
				t.Errorf("%s: GET %s: status %d, want %d (%.200s)", tc.name, tc.link, status, tc.status, body)
				continue
			}
			if tc.status != http.StatusOK {
				if !bytes.Contains(body, []byte(tc.wantBody)) {
					t.Errorf("%s: refusal %q does not mention %q", tc.name, body, tc.wantBody)
				}
				continue
			}
			if got := sha256.Sum256(body); len(body) != len(data) || got != sum {
				t.Errorf("%s: downloaded %d bytes, sha256 %x; want the %d-byte input, sha256 %x",
					tc.name, len(body), got, len(data), sum)
			}
		}
	})
}

// previewLink asks a payload service whose links last ttl for ref's preview, as the UI
// does, and returns the download link in it.
func (e *env) previewLink(t *testing.T, ref codec.Reference, ttl time.Duration) string {
	t.Helper()
	h := e.newHandler(t, payloadsvc.Options{DownloadTTL: ttl, PublicURL: e.svc}, &logBuffer{})
	p, err := ref.Payload()
	if err != nil {
		t.Fatal(err)
	}
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, e.svc+"/codec/decode", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	req.Header.Set(payloadsvc.PreviewHeader, "1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("decode for a preview: %d %s", rec.Code, rec.Body)
	}
	var out commonpb.Payloads
	if err := protojson.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	var prev struct {
		Preview payloadsvc.Preview `json:"longhaulPreview"`
	}
	if len(out.Payloads) != 1 || json.Unmarshal(out.Payloads[0].GetData(), &prev) != nil || prev.Preview.Download == "" {
		t.Fatalf("decode answered %v, want one preview", &out)
	}
	return prev.Preview.Download
}

// fetch requests link and returns the status and the body.
func fetch(t *testing.T, method, link string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, link, err)
	}
	return resp.StatusCode, body
}

func queryParam(t *testing.T, link, name string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get(name)
}

// stripQuery returns link without the named query parameters, the rest in a canonical order.
func stripQuery(link string, names ...string) string {
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	q := u.Query()
	for _, n := range names {
		q.Del(n)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// changeSig returns link with one hex digit of its signature changed.
func changeSig(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	sig, err := hex.DecodeString(q.Get("sig"))
	if err != nil || len(sig) == 0 {
		t.Fatalf("link %s has no hex signature", link)
	}
	sig[0] ^= 0x01 // the second hex digit
	q.Set("sig", hex.EncodeToString(sig))
	u.RawQuery = q.Encode()
	return u.String()
}

// logBuffer collects a payload service's JSON log lines.
type logBuffer struct{ testenv.SyncBuffer }

// has reports whether a log record has every attribute of want.
func (b *logBuffer) has(want map[string]any) bool { return len(b.records(want)) > 0 }

// records returns the log records that have every attribute of want (compared as text,
// so 403 matches the JSON number).
func (b *logBuffer) records(want map[string]any) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(b.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		match := true
		for k, v := range want {
			if got, ok := rec[k]; !ok || fmt.Sprint(got) != fmt.Sprint(v) {
				match = false
				break
			}
		}
		if match {
			out = append(out, rec)
		}
	}
	return out
}
