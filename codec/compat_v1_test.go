package codec_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// The v1 fixture is a workflow history and its blob directory as longhaul's v1 references
// (SHA-256 addresses, keys v1/{ns}/sha256/{hex}) left them, committed so that every later
// reference format is held to reading what deployments already have in history.
// Rewrite it only while v1 is what the codec writes:
// go test ./codec -run TestV1Fixture -update-v1-fixture.
var updateV1Fixture = flag.Bool("update-v1-fixture", false, "rewrite testdata/v1fixture from a run on the dev server")

const (
	v1FixtureDir  = "testdata/v1fixture"
	v1FixtureSeed = 2512
)

// CompatV1Workflow moves the kinds of payload a runbook moves: a large text input (stored
// zstd), a large random activity result (stored uncompressed) and a large signal; it
// returns their digests.
func CompatV1Workflow(ctx workflow.Context, input []byte) (string, error) {
	var result []byte
	if err := workflow.ExecuteActivity(actOpts(ctx), GenActivity, uint64(v1FixtureSeed), 300<<10).Get(ctx, &result); err != nil {
		return "", err
	}
	var sig []byte
	workflow.GetSignalChannel(ctx, "data").Receive(ctx, &sig)
	return digest(input) + " " + digest(result) + " " + digest(sig), nil
}

// v1FixtureInputs are the workflow's input and signal; the activity's result is gen's.
func v1FixtureInputs() (input, sig []byte) {
	line := []byte(`{"table":"users","shard":7,"rows_copied":123456,"status":"copying"}` + "\n")
	return bytes.Repeat(line, (600<<10)/len(line)), gen(v1FixtureSeed+1, 300<<10)
}

func TestV1FixtureDecodesAndReplays(t *testing.T) {
	if *updateV1Fixture {
		writeV1Fixture(t)
	}
	hist, blobs := testenv.HistoryFixture(t, v1FixtureDir)
	fs, err := filestore.New(blobs)
	if err != nil {
		t.Fatal(err)
	}
	c := newCodec(t, fs, codec.Options{CacheBytes: -1})

	t.Run("decode", func(t *testing.T) { decodeV1History(t, c, hist) })
	t.Run("worker", func(t *testing.T) { runOnV1References(t, fs, hist) })
	t.Run("replay", func(t *testing.T) {
		r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: codec.NewDataConverter(c, nil)})
		if err != nil {
			t.Fatal(err)
		}
		r.RegisterWorkflow(CompatV1Workflow)
		if err := r.ReplayWorkflowHistory(nil, hist); err != nil {
			t.Fatalf("replay of the v1 history: %v", err)
		}
	})
}

// decodeV1History decodes every reference in hist and checks the workflow's result names
// the digests of what was sent.
func decodeV1History(t *testing.T, c *codec.Codec, hist *historypb.History) {
	refs := 0
	for _, ev := range hist.Events {
		testenv.WalkPayloads(ev, func(p *commonpb.Payload) {
			if !codec.IsReference(p) {
				return
			}
			refs++
			var v struct{ V int }
			if err := json.Unmarshal(p.Data, &v); err != nil || v.V != 1 {
				t.Errorf("event %d: reference %s is not v1", ev.EventId, p.Data)
			}
			if _, err := c.Decode([]*commonpb.Payload{p}); err != nil {
				t.Errorf("event %d: %v", ev.EventId, err)
			}
		})
	}
	if refs < 3 {
		t.Fatalf("%d references in the fixture, want the input, the activity result and the signal", refs)
	}
	last := hist.Events[len(hist.Events)-1]
	done := last.GetWorkflowExecutionCompletedEventAttributes()
	if done == nil {
		t.Fatalf("last event is %s, want WorkflowExecutionCompleted", last.EventType)
	}
	var got string
	if err := codec.NewDataConverter(c, nil).FromPayloads(done.Result, &got); err != nil {
		t.Fatal(err)
	}
	input, sig := v1FixtureInputs()
	if want := digest(input) + " " + digest(gen(v1FixtureSeed, 300<<10)) + " " + digest(sig); got != want {
		t.Fatalf("result %q, want %q", got, want)
	}
}

// runOnV1References starts CompatV1Workflow on the dev server with the fixture's own v1
// input and signal references as they are in its history, for a worker of today's codec
// (it writes v2) to decode, and checks the result names the digests of what they hold.
func runOnV1References(t *testing.T, fs *filestore.Store, hist *historypb.History) {
	var inputRef, sigRef *commonpb.Payload
	for _, ev := range hist.Events {
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			inputRef = a.GetInput().GetPayloads()[0]
		}
		if a := ev.GetWorkflowExecutionSignaledEventAttributes(); a != nil {
			sigRef = a.GetInput().GetPayloads()[0]
		}
	}
	if !codec.IsReference(inputRef) || !codec.IsReference(sigRef) {
		t.Fatal("the fixture's input and signal are not references")
	}
	srv := testenv.SharedTemporal(t)
	c := newCodec(t, fs, codec.Options{CacheBytes: -1})
	input, sig := v1FixtureInputs()
	dc := fixedPayloads{DataConverter: codec.NewDataConverter(c, nil), fixed: map[string]*commonpb.Payload{
		string(input): inputRef, string(sig): sigRef,
	}}
	cl := srv.Client(t, client.Options{DataConverter: dc})
	tq := "v1-fixture-worker"
	startV1Worker(t, srv.Client(t, client.Options{DataConverter: codec.NewDataConverter(c, nil)}), tq)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := cl.SignalWithStartWorkflow(ctx, "v1-fixture-worker-"+t.Name(), "data", sig, client.StartWorkflowOptions{TaskQueue: tq},
		CompatV1Workflow, input)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if want := digest(input) + " " + digest(gen(v1FixtureSeed, 300<<10)) + " " + digest(sig); got != want {
		t.Fatalf("result %q, want %q", got, want)
	}
	first, err := cl.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT).Next()
	if err != nil {
		t.Fatal(err)
	}
	if in := first.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads(); len(in) != 1 || !proto.Equal(in[0], inputRef) {
		t.Fatal("the run did not start on the fixture's v1 input reference")
	}
	if st := c.Stats(); st.BlobsStored == 0 {
		t.Fatal("the worker stored no blob of its own: the activity result was not offloaded")
	}
}

// fixedPayloads sends the payloads given for the values given (the fixture's references
// in place of what they hold) and converts everything else as its DataConverter does.
type fixedPayloads struct {
	converter.DataConverter
	fixed map[string]*commonpb.Payload
}

func (f fixedPayloads) ToPayloads(values ...any) (*commonpb.Payloads, error) {
	if b, ok := values[0].([]byte); ok && len(values) == 1 && f.fixed[string(b)] != nil {
		return &commonpb.Payloads{Payloads: []*commonpb.Payload{f.fixed[string(b)]}}, nil
	}
	return f.DataConverter.ToPayloads(values...)
}

// writeV1Fixture runs CompatV1Workflow on the dev server with a codec over a fresh blob
// directory and writes its history beside it.
func writeV1Fixture(t *testing.T) {
	srv := testenv.SharedTemporal(t)
	if err := os.RemoveAll(v1FixtureDir); err != nil {
		t.Fatal(err)
	}
	fs, err := filestore.New(filepath.Join(v1FixtureDir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	cl := srv.Client(t, client.Options{DataConverter: codec.NewDataConverter(newCodec(t, fs, codec.Options{}), nil)})
	tq := "v1-fixture"
	startV1Worker(t, cl, tq)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	input, sig := v1FixtureInputs()
	run, err := cl.SignalWithStartWorkflow(ctx, "v1-fixture", "data", sig, client.StartWorkflowOptions{TaskQueue: tq}, CompatV1Workflow, input)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	h := &historypb.History{}
	it := cl.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	out, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v1FixtureDir, "history.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d events; result %s", v1FixtureDir, len(h.Events), strings.TrimSpace(got))
}

// startV1Worker runs CompatV1Workflow and its activity on tq until the test ends.
func startV1Worker(t *testing.T, cl client.Client, tq string) {
	w := worker.New(cl, tq, worker.Options{})
	w.RegisterWorkflow(CompatV1Workflow)
	w.RegisterActivity(GenActivity)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
}
