package payloadsvc

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/extstore"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/datadog"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/temporals3"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// runEcho runs EchoWorkflow with input on a worker of cl and returns the input payload
// as stored in history.
func runEcho(t *testing.T, cl client.Client, input string) *commonpb.Payload {
	t.Helper()
	tq := "interop-" + t.Name()
	w := worker.New(cl, tq, worker.Options{})
	w.RegisterWorkflow(EchoWorkflow)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx := testCtx(t, 2*time.Minute)
	run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: tq, WorkflowTaskTimeout: time.Minute}, EchoWorkflow, input)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if want := sha256Hex([]byte(input)); !strings.HasPrefix(got, want) {
		t.Fatalf("workflow saw %s, want %s/...", got, want)
	}
	return historyPayloads(t, cl, run.GetID())[0]
}

// TestCodecServerNamespaceFromSDK: a worker in namespace "prod" with zero codec.Options
// stores under v1/prod/..., and the codec server asked about "prod" decodes it (asked
// about "default", it finds nothing).
func TestCodecServerNamespaceFromSDK(t *testing.T) {
	srv := testenv.Temporal(t, testenv.DevServerOptions{ExtraArgs: []string{"--namespace", "prod"}})
	store := memstore.New()
	svc := startService(t, store, Options{})
	c, err := codec.New(store, codec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cl := srv.Client(t, client.Options{Namespace: "prod", DataConverter: codec.NewDataConverter(c, nil)})
	input := strings.Repeat("prod namespace input ", 1<<20/21)
	ref := runEcho(t, cl, input)
	r, err := codec.ParseReference(ref)
	if err != nil {
		t.Fatalf("the input in history is not a reference: %v", err)
	}
	key, _ := r.Key("prod")
	if _, err := store.Touch(testCtx(t, time.Minute), key); err != nil {
		t.Fatalf("no blob at %s: %v (keys: %v)", key, err, store.Keys())
	}
	dec := svc.postPayloads(t, "/codec/decode", map[string]string{"X-Namespace": "prod"}, ref)
	if !proto.Equal(dec[0], jsonPayload(t, input)) {
		t.Fatal("the codec server for prod did not decode the input")
	}
	if status, _, body := svc.do(t, "POST", "/codec/default/decode", payloadsJSON(t, ref), nil); status != 404 {
		t.Fatalf("decode for default: %d %s, want 404", status, short(body))
	}
}

// TestCodecServerDecodesExternalStorage: payloads a client stored through the SDK's
// External Storage with codec/extstore decode through /codec/decode, for their namespace
// only.
func TestCodecServerDecodesExternalStorage(t *testing.T) {
	srv := testenv.SharedTemporal(t)
	store := memstore.New()
	svc := startService(t, store, Options{})
	d, err := extstore.New(store, extstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cl := srv.Client(t, client.Options{ExternalStorage: converter.ExternalStorage{Drivers: []converter.StorageDriver{d}}})
	input := strings.Repeat("external storage input ", 1<<20/23)
	ref := runEcho(t, cl, input)
	if !codec.IsStorageReference(ref) {
		t.Fatalf("the input in history is not an External Storage reference: %q", ref.GetMetadata()["encoding"])
	}
	for _, path := range []string{"/codec/default/decode", "/codec/decode"} {
		dec := svc.postPayloads(t, path, map[string]string{"X-Namespace": "default"}, ref)
		if !proto.Equal(dec[0], jsonPayload(t, input)) {
			t.Fatalf("POST %s did not decode the External Storage reference", path)
		}
	}
	if status, _, body := svc.do(t, "POST", "/codec/other/decode", payloadsJSON(t, ref), nil); status != 400 {
		t.Fatalf("decode for another namespace: %d %s, want 400", status, short(body))
	}
	// Asked for a preview, the service previews it like its own references.
	pv := svc.postPayloads(t, "/codec/default/decode", map[string]string{PreviewHeader: "1"}, ref)
	sr, _ := codec.ParseStorageReference(ref)
	var pw previewWrapper
	if err := json.Unmarshal(pv[0].Data, &pw); err != nil || pw.Preview.SHA256 != sr.ClaimData["sha256"] || pw.Preview.Size != len(jsonPayload(t, input).Data) {
		t.Fatalf("preview of an External Storage reference (%v): %s", err, short(pv[0].Data))
	}
}

// TestCodecServerDecodesOtherOffloaders: with Readers configured, /codec/decode resolves
// DataDog v1/v2 references and Temporal S3 driver claims (on a real versitygw), verifies
// them (tampered: 502), and passes everything else through.
func TestCodecServerDecodesOtherOffloaders(t *testing.T) {
	dd := testenv.StartDataDogService(t)
	s3srv := testenv.S3(t, testenv.S3Options{})
	ddr, err := datadog.NewReader(datadog.Options{URL: dd.URL})
	if err != nil {
		t.Fatal(err)
	}
	s3r, err := temporals3.New(temporals3.Options{Client: s3srv.NewClient(), Buckets: []string{s3srv.Bucket}})
	if err != nil {
		t.Fatal(err)
	}
	// No cache: the tampered reads below must reach the services, not the verified copy.
	svc := startService(t, nil, Options{Codec: codec.Options{CacheBytes: -1, Readers: []codec.Reader{ddr, s3r}}})

	orig := jsonPayload(t, strings.Repeat("offloaded elsewhere ", 20<<10))
	writer := &testenv.TemporalS3Writer{Client: s3srv.NewClient(), Bucket: s3srv.Bucket}
	target := converter.StorageDriverWorkflowInfo{Namespace: "default", WorkflowType: "W", WorkflowID: "id", RunID: "run"}
	claim, err := writer.Put(testCtx(t, time.Minute), target, orig)
	if err != nil {
		t.Fatal(err)
	}
	s3ref := testenv.StorageRef("aws.s3driver", claim)
	plain := jsonPayload(t, "small")
	in := []*commonpb.Payload{dd.Ref("v1", "default", orig), dd.Ref("v2", "default", orig), s3ref, plain}
	dec := svc.postPayloads(t, "/codec/default/decode", nil, in...)
	for i, want := range []*commonpb.Payload{orig, orig, orig, plain} {
		if !proto.Equal(dec[i], want) {
			t.Errorf("payload %d did not decode to the original", i)
		}
	}

	dd.Tamper(true)
	if status, _, body := svc.do(t, "POST", "/codec/default/decode", payloadsJSON(t, in[1]), nil); status != 502 {
		t.Fatalf("tampered DataDog blob: %d %s, want 502", status, short(body))
	}
	dd.Tamper(false)
	// A claim for another namespace's key is refused by a codec server asked about this one.
	other := map[string]string{}
	for k, v := range claim {
		other[k] = v
	}
	other["key"] = strings.Replace(claim["key"], "v0/ns/default/", "v0/ns/secret/", 1)
	if status, _, body := svc.do(t, "POST", "/codec/default/decode", payloadsJSON(t, testenv.StorageRef("aws.s3driver", other)), nil); status != 400 {
		t.Fatalf("claim naming another namespace: %d %s, want 400", status, short(body))
	}
}
