package temporals3_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/temporals3"
	"github.com/seed-a62fcf0e/longhaul/codec/internal/awsintegrity"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestKeyMatchesS3Driver: the key layout matches the one sdk-go's contrib/aws/s3driver
// pins in its own tests (same targets, same expected keys, hash "abc123").
func TestKeyMatchesS3Driver(t *testing.T) {
	wf := func(ns, typ, id, run string) converter.StorageDriverTargetInfo {
		return converter.StorageDriverWorkflowInfo{Namespace: ns, WorkflowType: typ, WorkflowID: id, RunID: run}
	}
	cases := []struct {
		target converter.StorageDriverTargetInfo
		want   string
	}{
		{nil, "v0/d/sha256/abc123"},
		{wf("default", "MyWorkflow", "wf-123", "run-456"), "v0/ns/default/wt/MyWorkflow/wi/wf-123/ri/run-456/d/sha256/abc123"},
		{converter.StorageDriverActivityInfo{Namespace: "default", ActivityType: "MyActivity", ActivityID: "act-789", RunID: "run-abc"},
			"v0/ns/default/at/MyActivity/ai/act-789/ri/run-abc/d/sha256/abc123"},
		{wf("my-ns", "", "", ""), "v0/ns/my-ns/wt/null/wi/null/ri/null/d/sha256/abc123"},
		{converter.StorageDriverActivityInfo{Namespace: "my-ns"}, "v0/ns/my-ns/at/null/ai/null/ri/null/d/sha256/abc123"},
		{wf("my namespace", "my/workflow", "wf id+1", "run=abc"),
			"v0/ns/my%20namespace/wt/my%2Fworkflow/wi/wf%20id%2B1/ri/run%3Dabc/d/sha256/abc123"},
		{wf("ns1", "", "!-_.*'()", ""), "v0/ns/ns1/wt/null/wi/!-_.*'()/ri/null/d/sha256/abc123"},
		{wf("ns1", "", "wf~1", ""), "v0/ns/ns1/wt/null/wi/wf%7E1/ri/null/d/sha256/abc123"},
		{wf("ns1", "", "café", ""), "v0/ns/ns1/wt/null/wi/caf%C3%A9/ri/null/d/sha256/abc123"},
		{converter.StorageDriverActivityInfo{Namespace: "payments prod", ActivityType: "Capture/Charge", ActivityID: "activity id+42",
			RunID: "9e1d1fd9-2f8a-4c40-93e2-731f31b9268b"},
			"v0/ns/payments%20prod/at/Capture%2FCharge/ai/activity%20id%2B42/ri/9e1d1fd9-2f8a-4c40-93e2-731f31b9268b/d/sha256/abc123"},
	}
	for _, tc := range cases {
		if got := testenv.TemporalS3Key(tc.target, "abc123"); got != tc.want {
			t.Errorf("%+v: key %s, want %s", tc.target, got, tc.want)
		}
	}
}

// TestClaimGolden: the claims Temporal's S3 driver writes for a workflow, an activity
// and no target are pinned in testdata/claims.golden.json (-update rewrites it), and the
// reader resolves each from a real versitygw.
func TestClaimGolden(t *testing.T) {
	s3srv := testenv.S3(t, testenv.S3Options{})
	cl := s3srv.NewDefaultConfigClient(t)
	writer := &testenv.TemporalS3Writer{Client: cl, Bucket: "golden-bucket"}
	r, err := temporals3.New(temporals3.Options{Client: cl, Buckets: []string{"golden-bucket"}})
	if err != nil {
		t.Fatal(err)
	}
	orig := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"order":"123","items":[1,2,3]}`)}
	targets := []struct {
		name   string
		target converter.StorageDriverTargetInfo
	}{
		{"workflow", converter.StorageDriverWorkflowInfo{Namespace: "payments prod", WorkflowType: "ChargeWorkflow",
			WorkflowID: "order+123=abc", RunID: "3f1d6c7a-8b2e-4f7a-9d0a-87a6f95e4d31"}},
		{"activity", converter.StorageDriverActivityInfo{Namespace: "default", ActivityType: "Capture/Charge", ActivityID: "a1", RunID: "r1"}},
		{"no target", nil},
	}
	ctx := context.Background()
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &writer.Bucket}); err != nil {
		t.Fatal(err)
	}
	golden := map[string]map[string]string{}
	for _, tc := range targets {
		claim, err := writer.Put(ctx, tc.target, orig)
		if err != nil {
			t.Fatal(err)
		}
		golden[tc.name] = claim
		out, err := r.Retrieve(converter.StorageDriverRetrieveContext{Context: ctx}, []converter.StorageDriverClaim{{ClaimData: claim}})
		if err != nil || !proto.Equal(out[0], orig) {
			t.Fatalf("%s: retrieve: %v", tc.name, err)
		}
	}
	got, err := json.MarshalIndent(golden, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	file := filepath.Join("testdata", "claims.golden.json")
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want, err := os.ReadFile(file); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s differs (%v):\n got: %s\nwant: %s", file, err, got, want)
	}
}

// TestReaderSDKChecksumIsCorrupt: with a client from config.LoadDefaultConfig the object
// is written with a checksum and read with the SDK validating it; an object whose stored
// bytes were corrupted then fails the SDK's own check before ours, and that is
// driver.ErrCorrupt at once (one GET), not an outage retried for a minute.
func TestReaderSDKChecksumIsCorrupt(t *testing.T) {
	s3srv := testenv.S3(t, testenv.S3Options{})
	cl := s3srv.NewDefaultConfigClient(t)
	ctx := context.Background()
	data := bytes.Repeat([]byte("checksummed "), 200<<10)
	orig := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}
	target := converter.StorageDriverWorkflowInfo{Namespace: "default", WorkflowType: "W", WorkflowID: "id", RunID: "run"}
	claim, err := (&testenv.TemporalS3Writer{Client: cl, Bucket: s3srv.Bucket}).Put(ctx, target, orig)
	if err != nil {
		t.Fatal(err)
	}
	gets := &testenv.CountingS3{Client: cl}
	r, err := temporals3.New(temporals3.Options{Client: gets, Buckets: []string{s3srv.Bucket},
		Retry: driver.RetryPolicy{InitialInterval: time.Millisecond, MaxElapsed: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	retrieve := func() ([]*commonpb.Payload, error) {
		return r.Retrieve(converter.StorageDriverRetrieveContext{Context: ctx}, []converter.StorageDriverClaim{{ClaimData: claim}})
	}
	if out, err := retrieve(); err != nil || !proto.Equal(out[0], orig) {
		t.Fatalf("intact object: %v", err)
	}
	s3srv.CorruptObject(t, claim["key"])
	before := gets.Gets()
	_, err = retrieve()
	switch {
	case !errors.Is(err, driver.ErrCorrupt):
		t.Fatalf("corrupted object: %v, want ErrCorrupt", err)
	case !awsintegrity.Mismatch(err):
		t.Fatalf("corrupted object: %v; want the SDK's checksum check to have caught it (is validation on?)", err)
	case gets.Gets()-before != 1:
		t.Fatalf("%d GETs, want 1 (corruption is not retried)", gets.Gets()-before)
	}
	// Through the codec (the codec server's path) too.
	c := mustCodec(t, codec.Options{Readers: []codec.Reader{r}})
	if _, err := c.Decode([]*commonpb.Payload{testenv.StorageRef("aws.s3driver", claim)}); !errors.Is(err, driver.ErrCorrupt) {
		t.Fatalf("codec decode: %v, want ErrCorrupt", err)
	}
}
