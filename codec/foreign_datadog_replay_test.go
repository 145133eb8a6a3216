package codec_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/datadog"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// dataDogGoldenDir holds the DataDog golden references, pinned by the datadog package's
// TestDataDogGolden.
var dataDogGoldenDir = filepath.Join("foreign", "datadog", "testdata")

func ddReader(t testing.TB, opts datadog.Options) *datadog.Reader {
	t.Helper()
	r, err := datadog.NewReader(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// HoldJSONWorkflow is HoldWorkflow for a JSON document (a json/plain payload).
func HoldJSONWorkflow(ctx workflow.Context, doc json.RawMessage) (string, error) {
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, nil)
	return digest(doc), nil
}

// TestDataDogGoldenReplay: for each golden case a client on DataDog's codec starts a
// workflow with that payload as input; the reference in history is the golden one, byte
// for byte, and longhaul workers decode it through the service double, one replaying the
// history from scratch on the real dev server.
func TestDataDogGoldenReplay(t *testing.T) {
	srv := testenv.SharedTemporal(t)
	dd := testenv.StartDataDogService(t)
	for _, tc := range testenv.DataDogCases() {
		t.Run(tc.Name(), func(t *testing.T) {
			orig := tc.Payload()
			w := testenv.DataDogWriter{URL: dd.URL, Version: tc.Version, Namespace: "default", MinBytes: 1 << 10}
			starter := srv.Client(t, client.Options{DataConverter: converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), w)})
			newWorker := func(tq string) worker.Worker {
				c := newCodec(t, memstore.New(), codec.Options{Readers: []codec.Reader{ddReader(t, datadog.Options{URL: dd.URL})}})
				return worker.New(srv.Client(t, client.Options{DataConverter: codec.NewDataConverter(c, nil)}), tq, worker.Options{})
			}
			var wf, input any = HoldWorkflow, orig.Data
			if tc.Kind == "json" {
				wf, input = HoldJSONWorkflow, json.RawMessage(orig.Data)
			}
			before := len(dd.Requests())
			id := replayWorkflow(t, starter, newWorker, wf, input, digest(orig.Data))
			ps, err := testenv.HistoryPayloads(context.Background(), starter, id, "")
			if err != nil {
				t.Fatal(err)
			}
			golden, err := testenv.ParseDataDogGoldenRef(readFile(t, tc.GoldenFile(dataDogGoldenDir)))
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(ps[0].Payload, golden) {
				t.Fatalf("the input in history is not the golden reference:\n%s", testenv.DataDogGoldenRef(ps[0].Payload))
			}
			gets := 0
			for _, r := range dd.Requests()[before:] {
				if strings.HasSuffix(r.Path, "/blobs/get") {
					testenv.CheckDataDogGet(t, r, int64(tc.Size))
					gets++
				}
			}
			if gets < 2 {
				t.Fatalf("%d GETs; want one per worker at least", gets)
			}
		})
	}
}

// TestDataDogReplayerNamespaceFromKey: worker.WorkflowReplayer decodes with its
// placeholder namespace, not the one the history was written in. A DataDog v2 reference
// names its namespace in its key (/blobs/<ns>/common/...), so a blob copied into a
// longhaul Store under that namespace (the README's migration path) must be found, and
// a service read must not be refused for the placeholder. This needs the namespace
// resolved from the key (issue 20, the one-door work): it fails until that is merged.
func TestDataDogReplayerNamespaceFromKey(t *testing.T) {
	srv := testenv.SharedTemporal(t)
	dd := testenv.StartDataDogService(t)
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), dd.Codec("default"))
	starter := srv.Client(t, client.Options{DataConverter: dc})
	input := gen(seed+22, mib)
	newWorker := func(tq string) worker.Worker {
		c := newCodec(t, memstore.New(), codec.Options{Readers: []codec.Reader{ddReader(t, datadog.Options{URL: dd.URL})}})
		return worker.New(srv.Client(t, client.Options{DataConverter: codec.NewDataConverter(c, nil)}), tq, worker.Options{})
	}
	id := replayCase(t, starter, newWorker, input)
	hist := workflowHistory(t, starter, id)

	copied := memstore.New() // the DataDog blobs, copied under the reference's namespace
	key, err := driver.Key("default", driver.SHA256, digest(input))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := copied.Put(context.Background(), key, strings.NewReader(string(input)), int64(len(input))); err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string]datadog.Options{"store": {Store: copied}, "service": {URL: dd.URL}} {
		t.Run(name, func(t *testing.T) {
			c := newCodec(t, memstore.New(), codec.Options{Readers: []codec.Reader{ddReader(t, opts)}})
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: codec.NewDataConverter(c, nil)})
			if err != nil {
				t.Fatal(err)
			}
			r.RegisterWorkflow(HoldWorkflow)
			if err := r.ReplayWorkflowHistory(nil, hist); err != nil {
				t.Fatalf("replay: %v", err)
			}
		})
	}
}

// workflowHistory returns the whole history of workflow id.
func workflowHistory(t *testing.T, c client.Client, id string) *historypb.History {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	return h
}
