package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/sync/errgroup"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/extstore"
	"github.com/seed-a62fcf0e/longhaul/codec/fsck"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

const (
	fsckNS        = "ops-fsck"
	fsckWorkflows = 200
	fsckPayloads  = 20 // distinct payloads, each stored as a v2 and a v1 blob
	fsckBlobs     = 2 * fsckPayloads
)

// holdWorkflow returns its input, after a "go" signal when wait is set (so it stays
// open).
func holdWorkflow(ctx workflow.Context, in []byte, wait bool) ([]byte, error) {
	if wait {
		workflow.GetSignalChannel(ctx, "go").Receive(ctx, nil)
	}
	return in, nil
}

// fsckFixture is a namespace whose 200 workflows reference 40 blobs in versitygw: a
// deployment part-way through the upgrade to references v2. A third of the workflows went
// through the codec with BLAKE3 (references v2), a third through extstore claims (v2,
// the same blobs), a third through a codec with Hash SHA256 (references v1, keys v1/);
// a quarter are still open.
type fsckFixture struct {
	dev    *testenv.DevServer
	srv    *testenv.S3Server
	admin  *s3.Client
	store  *s3store.Store
	keys   [fsckPayloads]string // v2 blob key of each payload
	keysV1 [fsckPayloads]string // v1 blob key of each payload
	open   map[string]bool      // workflow id -> still open
	byBlob map[string][]string  // blob key -> workflow ids
}

// The writers of the fixture's workflows, by (i/fsckPayloads)%3 of workflow i.
const (
	viaCodec   = 0 // codec, BLAKE3: references v2
	viaClaims  = 1 // extstore claims, BLAKE3: v2
	viaCodecV1 = 2 // codec, Hash SHA256: references v1
)

func fsckWorkflowID(i int) string { return fmt.Sprintf("fsck-%03d", i) }

func newFsckFixture(t *testing.T) *fsckFixture {
	f := &fsckFixture{dev: testenv.SharedTemporal(t), srv: testenv.S3(t, testenv.S3Options{}),
		open: map[string]bool{}, byBlob: map[string][]string{}}
	registerNamespace(t, f.dev.Client(t, client.Options{}), fsckNS, 24*time.Hour)
	f.admin = f.srv.NewClient()
	var err error
	if f.store, err = s3store.New(f.admin, f.srv.Bucket, s3store.Options{Prefix: "fsck"}); err != nil {
		t.Fatal(err)
	}
	drv, err := extstore.New(f.store, extstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var clients [3]client.Client
	clients[viaCodec] = f.codecClient(t, codec.BLAKE3)
	clients[viaClaims] = f.dev.Client(t, client.Options{Namespace: fsckNS,
		ExternalStorage: converter.ExternalStorage{Drivers: []converter.StorageDriver{drv}, PayloadSizeThreshold: 1024}})
	clients[viaCodecV1] = f.codecClient(t, codec.SHA256)
	for i, c := range clients {
		w := worker.New(c, fmt.Sprintf("fsck-%d", i), worker.Options{})
		w.RegisterWorkflow(holdWorkflow)
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}
	f.start(t, clients)
	return f
}

// codecClient is a client of the fixture's namespace whose codec addresses with h.
func (f *fsckFixture) codecClient(t *testing.T, h codec.Hash) client.Client {
	cdc, err := codec.New(f.store, codec.Options{Namespace: fsckNS, Threshold: 1024, Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	return f.dev.Client(t, client.Options{Namespace: fsckNS, DataConverter: codec.NewDataConverter(cdc,
		converter.GetDefaultDataConverter())})
}

// start runs the 200 workflows and waits for the closed ones and for visibility.
func (f *fsckFixture) start(t *testing.T, clients [3]client.Client) {
	ctx := testenv.Context(t, 3*time.Minute)
	payloads := make([][]byte, fsckPayloads)
	for k := range payloads {
		payloads[k] = make([]byte, 4096)
		_, _ = rand.Read(payloads[k])
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range fsckWorkflows {
		id, via, wait := fsckWorkflowID(i), (i/fsckPayloads)%3, (i/10)%4 == 0
		f.open[id] = wait
		g.Go(func() error {
			run, err := clients[via].ExecuteWorkflow(gctx, client.StartWorkflowOptions{ID: id, TaskQueue: fmt.Sprintf("fsck-%d", via)},
				holdWorkflow, payloads[i%fsckPayloads], wait)
			if err != nil || wait {
				return err
			}
			var out []byte
			return run.Get(gctx, &out)
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for k := range payloads {
		f.keys[k] = f.inputKey(t, ctx, clients[viaCodec], k, "v2/") // workflow k: via the BLAKE3 codec
		f.keysV1[k] = f.inputKey(t, ctx, clients[viaCodec], k+viaCodecV1*fsckPayloads, "v1/")
	}
	for i := range fsckWorkflows {
		key := f.keys[i%fsckPayloads]
		if (i/fsckPayloads)%3 == viaCodecV1 {
			key = f.keysV1[i%fsckPayloads]
		}
		f.byBlob[key] = append(f.byBlob[key], fsckWorkflowID(i))
	}
	waitVisible(t, ctx, clients[0], fsckWorkflows)
}

// inputKey returns the blob key of workflow i's input reference, which must start with
// version ("v1/" or "v2/").
func (f *fsckFixture) inputKey(t *testing.T, ctx context.Context, c client.Client, i int, version string) string {
	hs, err := testenv.HistoryPayloads(ctx, c, fsckWorkflowID(i), "")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := codec.ParseReference(hs[0].Payload)
	if err != nil {
		t.Fatalf("workflow %d input is not a longhaul reference: %v", i, err)
	}
	key, err := ref.Key(fsckNS)
	if err != nil || !strings.HasPrefix(key, version) {
		t.Fatalf("workflow %d input names key %q (%v), want one under %s", i, key, err, version)
	}
	return key
}

func waitVisible(t *testing.T, ctx context.Context, c client.Client, n int64) {
	for {
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: fsckNS})
		if err == nil && resp.GetCount() >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("visibility shows %d of %d workflows: %v", resp.GetCount(), n, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// expected lists, for a blob, every "workflow event-type" that references it.
func (f *fsckFixture) expected(key string) []string {
	var out []string
	for _, id := range f.byBlob[key] {
		out = append(out, id+" WorkflowExecutionStarted")
		if !f.open[id] {
			out = append(out, id+" WorkflowExecutionCompleted")
		}
	}
	sort.Strings(out)
	return out
}

func (f *fsckFixture) args(extra ...string) []string {
	return append([]string{"fsck", "--store", s3URL(f.srv, f.srv.Endpoint, "fsck"), "--namespace", fsckNS,
		"--address", f.dev.Address}, extra...)
}

func (f *fsckFixture) objectKey(t *testing.T, key string) *string {
	okey, err := f.store.ObjectKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return aws.String(okey)
}

func (f *fsckFixture) get(t *testing.T, key string) []byte {
	ctx := testenv.Context(t, time.Minute)
	out, err := f.admin.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(f.srv.Bucket), Key: f.objectKey(t, key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fsckFixture) put(t *testing.T, key string, b []byte) {
	ctx := testenv.Context(t, time.Minute)
	_, err := f.admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(f.srv.Bucket), Key: f.objectKey(t, key), Body: bytes.NewReader(b)})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fsckFixture) remove(t *testing.T, key string) {
	ctx := testenv.Context(t, time.Minute)
	if _, err := f.admin.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(f.srv.Bucket), Key: f.objectKey(t, key)}); err != nil {
		t.Fatal(err)
	}
}

// report runs fsck with --output json.
func report(t *testing.T, env []string, args ...string) (*fsck.Report, int) {
	t.Helper()
	r := runCLI(t, env, append(args, "--output", "json")...)
	var rep fsck.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("exit %d, %v\nstdout %s\nstderr %s", r.code, err, r.stdout, r.stderr)
	}
	return &rep, r.code
}

// occurrences lists a problem's references as "workflow event-type".
func occurrences(p *fsck.Problem) []string {
	out := make([]string, len(p.Occurrences))
	for i, o := range p.Occurrences {
		out[i] = o.WorkflowID + " " + o.EventType
	}
	sort.Strings(out)
	return out
}

// A v2 and a v1 blob deleted, a v2 and a v1 blob corrupted: fsck reports exactly those
// four, each with every workflow and event that references it, exits 1, resumes a killed
// walk with the same result, and exits 0 once they are restored.
func TestFsck(t *testing.T) {
	f := newFsckFixture(t)
	env := s3Env(f.srv)
	want := map[string]string{f.keys[3]: fsck.StatusMissing, f.keysV1[5]: fsck.StatusMissing,
		f.keys[8]: fsck.StatusCorrupt, f.keysV1[12]: fsck.StatusCorrupt}
	saved := map[string][]byte{}
	for key, status := range want {
		saved[key] = f.get(t, key)
		if status == fsck.StatusMissing {
			f.remove(t, key)
			continue
		}
		bad := bytes.Clone(saved[key])
		bad[len(bad)/2] ^= 0xff
		f.put(t, key, bad)
	}

	rep, code := report(t, env, f.args("--verify")...)
	if code != exitProblems {
		t.Fatalf("exit %d, want %d", code, exitProblems)
	}
	f.checkProblems(t, rep, want, false)
	text := runCLI(t, env, f.args("--verify")...)
	t.Logf("fsck output (exit %d):\n%s", text.code, text.stdout)
	for key, status := range want {
		if text.code != exitProblems || !strings.Contains(text.stdout, strings.ToUpper(status)+" "+key) {
			t.Errorf("text output, exit %d, lacks %s %s:\n%s", text.code, strings.ToUpper(status), key, text.stdout)
		}
	}

	t.Run("resume after kill", func(t *testing.T) { f.resumeAfterKill(t, env, want) })
	t.Run("resume from workflow", func(t *testing.T) {
		// --resume-from skips the listing (newest first) up to the workflow given.
		ids := f.listing(t)
		rep, _ := report(t, env, f.args("--resume-from", ids[150])...)
		if rep.Workflows != len(ids)-150 {
			t.Errorf("walked %d workflows from the 151st of %d", rep.Workflows, len(ids))
		}
	})

	for key, b := range saved {
		f.put(t, key, b)
	}
	rep, code = report(t, env, f.args("--verify")...)
	if code != exitOK || len(rep.Problems) != 0 || rep.Blobs != fsckBlobs {
		t.Fatalf("after restore: exit %d, %d problems, %d blobs", code, len(rep.Problems), rep.Blobs)
	}
}

// checkProblems checks a whole walk's report: every workflow walked, each blob checked
// once, and exactly the problems of want (blob key -> status) with all their references.
func (f *fsckFixture) checkProblems(t *testing.T, rep *fsck.Report, want map[string]string, resumed bool) {
	t.Helper()
	refs := 0
	for _, open := range f.open {
		refs += 2
		if open {
			refs--
		}
	}
	blobsOK := rep.Blobs == fsckBlobs || resumed && rep.Blobs >= fsckBlobs && rep.Blobs <= 2*fsckBlobs
	if rep.Workflows != fsckWorkflows || !blobsOK || rep.References != refs || len(rep.Errors) != 0 {
		t.Errorf("walked %d workflows, %d blobs, %d references, errors %v; want %d, %d, %d",
			rep.Workflows, rep.Blobs, rep.References, rep.Errors, fsckWorkflows, fsckBlobs, refs)
	}
	if len(rep.Problems) != len(want) {
		t.Fatalf("%d problems, want %d: %+v", len(rep.Problems), len(want), rep.Problems)
	}
	for _, p := range rep.Problems {
		if want[p.Key] != p.Status {
			t.Errorf("problem %s is %s, want %q", p.Key, p.Status, want[p.Key])
		}
		if got, exp := occurrences(p), f.expected(p.Key); strings.Join(got, "\n") != strings.Join(exp, "\n") {
			t.Errorf("%s references:\n%s\nwant:\n%s", p.Key, strings.Join(got, "\n"), strings.Join(exp, "\n"))
		}
		for _, o := range p.Occurrences {
			if o.RunID == "" || o.EventID < 1 {
				t.Errorf("occurrence without run or event id: %+v", o)
			}
		}
	}
}

// resumeAfterKill kills a walk that saves its state after every page of 5 workflows,
// then runs it again: the second run continues and reports the whole walk.
func (f *fsckFixture) resumeAfterKill(t *testing.T, env []string, want map[string]string) {
	state := filepath.Join(t.TempDir(), "fsck-state.json")
	args := f.args("--verify", "--state", state, "--page-size", "5", "--concurrency", "1", "--blob-concurrency", "1")
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(time.Minute)
	var st *fsck.State
	for st == nil || st.Workflows < 20 {
		select {
		case err := <-exited:
			t.Fatalf("walk ended (%v) before it could be killed mid-way; state %+v", err, st)
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatal("no state after a minute")
		case <-time.After(5 * time.Millisecond):
		}
		st, _ = fsck.LoadState(state)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	st, err := fsck.LoadState(state)
	if err != nil || st.Done || st.Workflows >= fsckWorkflows {
		t.Fatalf("state after the kill: %+v, %v", st, err)
	}
	t.Logf("killed after %d workflows (state saved at %s)", st.Workflows, st.LastWorkflowID)
	rep, code := report(t, env, args...)
	if code != exitProblems {
		t.Fatalf("resumed walk: exit %d", code)
	}
	f.checkProblems(t, rep, want, true)
}

// listing returns the namespace's workflow ids in visibility order.
func (f *fsckFixture) listing(t *testing.T) []string {
	ctx := testenv.Context(t, time.Minute)
	c := f.dev.Client(t, client.Options{Namespace: fsckNS})
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: fsckNS, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range resp.GetExecutions() {
		ids = append(ids, e.GetExecution().GetWorkflowId())
	}
	return ids
}

// Claims of Temporal's S3 driver are checked with --temporal-s3-bucket: a good object
// passes, a deleted one is reported with its workflow and event.
func TestFsckTemporalS3Claims(t *testing.T) {
	const ns = "ops-fsck-s3"
	dev := testenv.SharedTemporal(t)
	registerNamespace(t, dev.Client(t, client.Options{}), ns, 24*time.Hour)
	srv := testenv.S3(t, testenv.S3Options{})
	writer := &testenv.TemporalS3Writer{Client: srv.NewClient(), Bucket: srv.Bucket}
	c := dev.Client(t, client.Options{Namespace: ns,
		ExternalStorage: converter.ExternalStorage{Drivers: []converter.StorageDriver{writer}, PayloadSizeThreshold: 1024}})
	ctx := testenv.Context(t, time.Minute)
	in := make([]byte, 4096)
	_, _ = rand.Read(in)
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "s3-claim", TaskQueue: "nobody"}, "Hold", in); err != nil {
		t.Fatal(err)
	}
	args := []string{"fsck", "--store", s3URL(srv, srv.Endpoint, "unused"), "--namespace", ns, "--address", dev.Address,
		"--temporal-s3-bucket", srv.Bucket, "--temporal-s3-endpoint", srv.Endpoint}
	rep, code := report(t, s3Env(srv), args...)
	if code != exitOK || rep.References != 1 || rep.Blobs != 1 {
		t.Fatalf("exit %d, %d references, %d blobs", code, rep.References, rep.Blobs)
	}
	out, err := srv.NewClient().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(srv.Bucket), Prefix: aws.String("v0/")})
	if err != nil || len(out.Contents) != 1 {
		t.Fatalf("objects of the S3 driver: %v, %v", out, err)
	}
	if _, err := srv.NewClient().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(srv.Bucket), Key: out.Contents[0].Key}); err != nil {
		t.Fatal(err)
	}
	rep, code = report(t, s3Env(srv), args...)
	if code != exitProblems || len(rep.Problems) != 1 {
		t.Fatalf("after deleting the object: exit %d, problems %+v", code, rep.Problems)
	}
	p := rep.Problems[0]
	if p.Kind != codec.KindTemporalS3.String() || p.Status != fsck.StatusMissing || len(p.Occurrences) != 1 || p.Occurrences[0].WorkflowID != "s3-claim" {
		t.Errorf("problem %+v", p)
	}
}
