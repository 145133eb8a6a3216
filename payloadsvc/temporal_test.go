package payloadsvc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const workerToken = "worker-token-5ad1"

// temporalEnv is the shared dev server, a payload service with token auth over a
// memstore, and a worker whose codec stores through a blobclient.Client.
type temporalEnv struct {
	srv       *testenv.DevServer
	svc       *service
	client    client.Client // with the codec: what an application uses
	raw       client.Client // without it: sees history as stored
	taskQueue string
}

func startTemporal(t *testing.T) *temporalEnv {
	t.Helper()
	return startTemporalAuth(t, nil)
}

// startTemporalAuth is startTemporal with people's authorizer (OIDC, say) chained
// after the worker's token.
func startTemporalAuth(t *testing.T, people Authorizer) *temporalEnv {
	t.Helper()
	srv := testenv.SharedTemporal(t)
	tokens, err := NewTokenAuthorizer(map[string][]string{workerToken: {"default"}})
	if err != nil {
		t.Fatal(err)
	}
	var auth Authorizer = tokens
	if people != nil {
		auth = Chain{tokens, people}
	}
	svc := startService(t, nil, Options{Authorizer: auth})
	store := svc.client(t, blobclient.Options{Token: workerToken})
	c, err := codec.New(store, codec.Options{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	e := &temporalEnv{
		srv:       srv,
		svc:       svc,
		client:    srv.Client(t, client.Options{DataConverter: codec.NewDataConverter(c, nil)}),
		raw:       srv.Client(t, client.Options{}),
		taskQueue: "payloadsvc-" + t.Name(),
	}
	w := worker.New(e.client, e.taskQueue, worker.Options{})
	w.RegisterWorkflow(EchoWorkflow)
	w.RegisterWorkflow(RoundTripWorkflow)
	w.RegisterActivity(testenv.RotateActivity)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return e
}

func (e *temporalEnv) startOptions(id string) client.StartWorkflowOptions {
	// Storing tens of MiB in a workflow task takes more than the 10s default under the
	// race detector on two cores.
	return client.StartWorkflowOptions{ID: id, TaskQueue: e.taskQueue, WorkflowTaskTimeout: time.Minute}
}

// EchoWorkflow returns the length and SHA-256 of its input.
func EchoWorkflow(ctx workflow.Context, input string) (string, error) {
	s := sha256.Sum256([]byte(input))
	return hex.EncodeToString(s[:]) + "/" + strconv.Itoa(len(input)), nil
}

// RoundTripWorkflow hands its input to testenv.RotateActivity and returns what comes back.
func RoundTripWorkflow(ctx workflow.Context, data []byte) ([]byte, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 3 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 2},
	})
	var out []byte
	err := workflow.ExecuteActivity(ctx, testenv.RotateActivity, data).Get(ctx, &out)
	return out, err
}

// runCLI runs the pinned temporal CLI against the dev server.
func runCLI(t *testing.T, srv *testenv.DevServer, args ...string) string {
	t.Helper()
	stdout, stderr, err := tryCLI(t, srv, args...)
	if err != nil {
		t.Fatalf("temporal %s: %v\nstderr: %s\nstdout: %s", strings.Join(args, " "), err, stderr, short([]byte(stdout)))
	}
	return stdout
}

// tryCLI is runCLI returning the CLI's failure instead of failing the test.
func tryCLI(t *testing.T, srv *testenv.DevServer, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.TemporalBin(t), append(args, "--address", srv.Address, "--namespace", "default")...)
	cmd.Env = append(os.Environ(), "TEMPORAL_CONFIG_FILE="+filepath.Join(t.TempDir(), "none.toml"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// startedInput is the workflow input in the CLI's protojson history.
func startedInput(t *testing.T, out string) *commonpb.Payload {
	t.Helper()
	var h historypb.History
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("CLI output is not a protojson history: %v\n%s", err, short([]byte(out)))
	}
	for _, ev := range h.Events {
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			return a.GetInput().GetPayloads()[0]
		}
	}
	t.Fatal("CLI output has no WorkflowExecutionStarted event")
	return nil
}

// historyPayloads returns every payload in a workflow's history as stored.
func historyPayloads(t *testing.T, cl client.Client, id string) []*commonpb.Payload {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	found, err := testenv.HistoryPayloads(ctx, cl, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		t.Fatalf("no payloads in the history of %s", id)
	}
	out := make([]*commonpb.Payload, len(found))
	for i, f := range found {
		out[i] = f.Payload
	}
	return out
}

// TestCLIShowDecodes: `temporal workflow show --codec-endpoint .../codec/{namespace}`
// shows a workflow's offloaded 5 MiB input decoded through the service; without the
// endpoint it shows only the reference.
func TestCLIShowDecodes(t *testing.T) {
	e := startTemporal(t)
	marker := "LONGHAUL-CLI-MARKER-" + hex.EncodeToString([]byte(t.Name()))[:16]
	input := marker + " " + strings.Repeat("five mebibytes of workflow input. ", 5<<20/34) + " END-" + marker
	ctx := testCtx(t, 3*time.Minute)
	run, err := e.client.ExecuteWorkflow(ctx, e.startOptions("cli-show"), EchoWorkflow, input)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256([]byte(input))
	if want := hex.EncodeToString(s[:]) + "/" + strconv.Itoa(len(input)); got != want {
		t.Fatalf("workflow saw %s, want %s", got, want)
	}
	for _, p := range historyPayloads(t, e.raw, "cli-show") {
		if proto.Size(p) > 256<<10 {
			t.Fatalf("history holds a %d-byte payload", proto.Size(p))
		}
	}

	// --output json prints history as protojson (payloads in base64, for replayers):
	// parse it and look at the workflow's input as the CLI saw it.
	wantData, _ := json.Marshal(input)
	inputOf := func(out string) *commonpb.Payload { t.Helper(); return startedInput(t, out) }

	plain := inputOf(runCLI(t, e.srv, "workflow", "show", "--workflow-id", "cli-show", "--output", "json"))
	if !codec.IsReference(plain) {
		t.Fatalf("without a codec endpoint the CLI shows %q, want the reference", plain.Metadata["encoding"])
	}
	endpoint := e.svc.URL + "/codec/{namespace}"
	decoded := inputOf(runCLI(t, e.srv, "workflow", "show", "--workflow-id", "cli-show", "--output", "json",
		"--codec-endpoint", endpoint, "--codec-auth", "Bearer "+workerToken))
	if string(decoded.Metadata["encoding"]) != "json/plain" || !bytes.Equal(decoded.Data, wantData) {
		t.Fatalf("CLI through the codec endpoint shows %q data of %d bytes, want the %d-byte json/plain input", decoded.Metadata["encoding"], len(decoded.Data), len(wantData))
	}
	if !bytes.Contains(decoded.Data, []byte(marker)) {
		t.Fatal("CLI output lacks the input's marker")
	}
	if !strings.Contains(e.svc.logs.String(), "route=decode") {
		t.Fatal("the service logged no decode request")
	}

	// A person asks the CLI for a preview of big payloads with a header.
	preview := inputOf(runCLI(t, e.srv, "workflow", "show", "--workflow-id", "cli-show", "--output", "json",
		"--codec-endpoint", endpoint, "--codec-auth", "Bearer "+workerToken, "--codec-header", PreviewHeader+"=1"))
	var pw previewWrapper
	if err := json.Unmarshal(preview.Data, &pw); err != nil || !strings.HasPrefix(pw.Preview.Head, `"`+marker) || pw.Preview.Size != len(wantData) {
		t.Fatalf("CLI output with %s=1 is not a preview of the input (%v): %s", PreviewHeader, err, short(preview.Data))
	}

}

// TestCLIStartEncodes: `temporal workflow start --input-file ... --codec-endpoint ...`
// encodes the input through the service's /encode: history holds a reference, and the
// worker, reading the store through a Client, sees the original input.
func TestCLIStartEncodes(t *testing.T) {
	e := startTemporal(t)
	input := "CLI-INPUT " + strings.Repeat("encoded by the codec server. ", 1<<20/29)
	file := filepath.Join(t.TempDir(), "input.json")
	data, _ := json.Marshal(input)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	runCLI(t, e.srv, "workflow", "start", "--workflow-id", "cli-start", "--task-queue", e.taskQueue, "--type", "EchoWorkflow",
		"--input-file", file, "--codec-endpoint", e.svc.URL+"/codec/{namespace}", "--codec-auth", "Bearer "+workerToken)
	if !strings.Contains(e.svc.logs.String(), "route=encode") {
		t.Fatal("the service logged no encode request")
	}
	ctx := testCtx(t, 2*time.Minute)
	var got string
	if err := e.client.GetWorkflow(ctx, "cli-start", "").Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256([]byte(input))
	if want := hex.EncodeToString(s[:]) + "/" + strconv.Itoa(len(input)); got != want {
		t.Fatalf("worker saw input %s, want %s", got, want)
	}
	refs := 0
	for _, p := range historyPayloads(t, e.raw, "cli-start") {
		if proto.Size(p) > 256<<10 {
			t.Fatalf("history holds a %d-byte payload", proto.Size(p))
		}
		if codec.IsReference(p) {
			refs++
		}
	}
	if refs != 1 {
		t.Fatalf("%d references in history, want 1 (the CLI's input)", refs)
	}
}

// TestWorkerOverClient50MiB: a worker and client whose codec stores through a
// blobclient.Client complete a workflow that sends 50 MiB to an activity which returns
// 50 MiB; the bytes arrive intact and every payload in history is small.
func TestWorkerOverClient50MiB(t *testing.T) {
	e := startTemporal(t)
	data := make([]byte, 50<<20)
	r := rand.NewChaCha8([32]byte{7})
	_, _ = r.Read(data)
	ctx := testCtx(t, 5*time.Minute)
	run, err := e.client.ExecuteWorkflow(ctx, e.startOptions("fifty-mib"), RoundTripWorkflow, data)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	if err := run.Get(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, testenv.Rotate(data)) {
		t.Fatalf("result: %d bytes, sha256 %x; want the %d input bytes rotated", len(out), sha256.Sum256(out), len(data))
	}
	refs := 0
	for _, p := range historyPayloads(t, e.raw, "fifty-mib") {
		if n := proto.Size(p); n > 256<<10 {
			t.Errorf("history holds a %d-byte payload, over the %d threshold", n, 256<<10)
		}
		if codec.IsReference(p) {
			refs++
		}
	}
	if refs < 4 { // input, activity input, activity result, workflow result
		t.Fatalf("%d references in history, want at least 4", refs)
	}
	if n := e.svc.h.metrics.bytesInFor(routeBlob); n < 100<<20 {
		t.Fatalf("the service received %d blob bytes, want the two 50 MiB blobs", n)
	}
}
