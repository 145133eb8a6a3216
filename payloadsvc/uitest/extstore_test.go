package uitest

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"

	"github.com/google/uuid"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/extstore"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
)

// TestTemporalUIExternalStorage: an input stored through the SDK's External Storage by
// codec/extstore (history holds an ExternalStorageReference) is shown decoded in the
// Temporal UI, through the same payload service.
func TestTemporalUIExternalStorage(t *testing.T) {
	e := newEnv(t)
	logs := e.serve(t, payloadsvc.Options{CORSOrigins: []string{e.ui}})

	d, err := extstore.New(e.store, extstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.NewClientFromExisting(e.client, client.Options{
		ExternalStorage: converter.ExternalStorage{Drivers: []converter.StorageDriver{d}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	const tq = "uitest-extstore"
	w := worker.New(cl, tq, worker.Options{})
	w.RegisterWorkflow(CountRows)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	doc, data := newDocument(t, 1<<20, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id := "uitest-extstore-" + uuid.NewString()
	run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq, WorkflowTaskTimeout: time.Minute}, CountRows, doc)
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := run.Get(ctx, &rows); err != nil || rows != len(doc.Rows) {
		t.Fatalf("workflow %s: %d rows, %v; want %d", id, rows, err, len(doc.Rows))
	}
	first, err := e.client.GetWorkflowHistory(ctx, id, run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT).Next()
	if err != nil {
		t.Fatal(err)
	}
	input := first.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	if len(input) != 1 || !codec.IsStorageReference(input[0]) {
		t.Fatalf("the input in history is not an External Storage reference")
	}

	historyURL := e.ui + "/namespaces/default/workflows/" + url.PathEscape(id) + "/" + url.PathEscape(run.GetRunID()) + "/history"
	got := e.browser.open(t, page{
		URL: historyURL, Want: []string{doc.Marker}, StopOn: []string{codecErrorBanner},
		Screenshot: screenshotPath(t), Timeout: pageTimeout,
	})
	if !got.Found {
		t.Fatalf("the page does not show the input's marker %q %s", doc.Marker, got.describe())
	}
	if err := isPNG(got.Screenshot); err != nil {
		t.Errorf("screenshot %s: %v", got.Screenshot, err)
	}
	if !decodedWhole(logs, e.ui, len(data)) {
		t.Errorf("payloadsvc logged no decode of the %d-byte input from origin %s:\n%s", len(data), e.ui, logs)
	}
}

// decodedWhole reports whether payloadsvc logged a successful decode for origin that
// answered at least n bytes: the page's payload came through the service, whole.
func decodedWhole(logs *logBuffer, origin string, n int) bool {
	recs := logs.records(map[string]any{"route": "decode", "status": 200, "namespace": "default", "origin": origin})
	return slices.ContainsFunc(recs, func(rec map[string]any) bool {
		out, _ := rec["bytes_out"].(float64)
		return out >= float64(n)
	})
}
