package uitest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/google/uuid"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
)

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
	store      driver.Store
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
