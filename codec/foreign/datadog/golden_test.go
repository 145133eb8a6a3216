package datadog_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/datadog"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// parseGoldenRef reads a DataDog golden reference.
func parseGoldenRef(t *testing.T, b []byte) *commonpb.Payload {
	t.Helper()
	p, err := testenv.ParseDataDogGoldenRef(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDataDogGolden: references in exactly the form DataDog's codec writes them (its
// Encode, PUT to the service, reference from the answer; see internal/testsupport/testenv) are pinned
// in testdata/datadog_*.golden.json (-update rewrites them), and each golden reference
// decodes in a worker codec whose DataDog reader asks the double of DataDog's service, as
// its handlers require, with one GET.
func TestDataDogGolden(t *testing.T) {
	for _, tc := range testenv.DataDogCases() {
		t.Run(tc.Name(), func(t *testing.T) {
			svc := testenv.StartDataDogService(t)
			orig := tc.Payload()
			ref, err := testenv.DataDogWriter{URL: svc.URL, Version: tc.Version, Namespace: "default"}.Put(t.Context(), orig)
			if err != nil {
				t.Fatal(err)
			}
			file := tc.GoldenFile("testdata")
			checkGolden(t, file, testenv.DataDogGoldenRef(ref))
			golden := parseGoldenRef(t, readFile(t, file))
			if !proto.Equal(golden, ref) {
				t.Fatal("the golden file does not hold the reference")
			}
			before := len(svc.Requests())
			c := newCodec(t, memstore.New(), codec.Options{CacheBytes: -1, Readers: []codec.Reader{ddReader(t, datadog.Options{URL: svc.URL})}})
			if out := roundTripDecode(t, c, golden); !proto.Equal(out, orig) {
				t.Fatal("decoded payload differs from the original")
			}
			reqs := svc.Requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want one GET", len(reqs))
			}
			testenv.CheckDataDogGet(t, reqs[0], int64(tc.Size))
		})
	}
}

// TestDataDogGoldenReadable: a golden file is readable JSON whose data is the reference
// DataDog's codec writes, field by field.
func TestDataDogGoldenReadable(t *testing.T) {
	p := parseGoldenRef(t, readFile(t, filepath.Join("testdata", "datadog_v2_10KiB_json.golden.json")))
	var ref struct {
		Metadata map[string][]byte
		Size     int
		Digest   string
		Key      string
	}
	if err := json.Unmarshal(p.Data, &ref); err != nil {
		t.Fatal(err)
	}
	want := `{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"size":10240,"digest":"sha256:`
	if !bytes.HasPrefix(p.Data, []byte(want)) || ref.Size != 10<<10 {
		t.Fatalf("reference data %.120s", p.Data)
	}
	wantKey := "/blobs/default/common/" + ref.Digest + "/sha256:"
	if !bytes.HasPrefix([]byte(ref.Key), []byte(wantKey)) || len(ref.Key) != len(wantKey)+64 {
		t.Fatalf("key %s, want %s<hex>", ref.Key, wantKey)
	}
}
