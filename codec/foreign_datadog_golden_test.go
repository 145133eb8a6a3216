package codec_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testenv"
)

// dataDogCase is one reference DataDog's codec writes: a version, a payload size and kind.
type dataDogCase struct {
	version, kind string
	size          int
}

func (c dataDogCase) name() string {
	return fmt.Sprintf("%s_%s_%s", c.version, sizeName(c.size), c.kind)
}

func (c dataDogCase) payload() *commonpb.Payload {
	return testenv.DataDogPayload(c.kind, c.size, uint64(c.size)+uint64(len(c.kind)))
}

// dataDogCases: v1 and v2, 10 KiB, 3 MiB and 40 MiB, random and JSON; plus v1 as written
// before v2 existed ("location" in place of "key").
func dataDogCases() []dataDogCase {
	var cs []dataDogCase
	for _, v := range []string{testenv.DataDogV1, testenv.DataDogV2} {
		for _, size := range []int{10 << 10, 3 * mib, 40 * mib} {
			for _, kind := range []string{"random", "json"} {
				cs = append(cs, dataDogCase{v, kind, size})
			}
		}
	}
	return append(cs, dataDogCase{testenv.DataDogV1Legacy, "random", 10 << 10})
}

// goldenRef is a reference payload as a golden file holds it: its metadata as text and
// its data verbatim (the exact bytes DataDog's codec writes are JSON themselves).
func goldenRef(p *commonpb.Payload) []byte {
	md := map[string]string{}
	for k, v := range p.GetMetadata() {
		md[k] = string(v)
	}
	m, err := json.Marshal(md)
	if err != nil {
		panic(err)
	}
	return fmt.Appendf(nil, "{\"metadata\":%s,\n \"data\":%s}\n", m, p.GetData())
}

// parseGoldenRef is the inverse of goldenRef.
func parseGoldenRef(t *testing.T, b []byte) *commonpb.Payload {
	t.Helper()
	var g struct {
		Metadata map[string]string
		Data     json.RawMessage
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	p := &commonpb.Payload{Metadata: map[string][]byte{}, Data: g.Data}
	for k, v := range g.Metadata {
		p.Metadata[k] = []byte(v)
	}
	return p
}

// TestDataDogGolden: references in exactly the form DataDog's codec writes them (its
// Encode, PUT to the service, reference from the answer; see internal/testenv) are pinned
// in testdata/datadog_*.golden.json (-update rewrites them), and each golden reference
// decodes in a worker codec whose DataDog reader asks the double of DataDog's service, as
// its handlers require, with one GET.
func TestDataDogGolden(t *testing.T) {
	for _, tc := range dataDogCases() {
		t.Run(tc.name(), func(t *testing.T) {
			svc := testenv.StartDataDogService(t)
			orig := tc.payload()
			ref, err := testenv.DataDogWriter{URL: svc.URL, Version: tc.version, Namespace: "default"}.Put(t.Context(), orig)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join("testdata", "datadog_"+tc.name()+".golden.json")
			checkGolden(t, file, goldenRef(ref))
			golden := parseGoldenRef(t, readFile(t, file))
			if !proto.Equal(golden, ref) {
				t.Fatal("the golden file does not hold the reference")
			}
			before := len(svc.Requests())
			c := newCodec(t, memstore.New(), codec.Options{CacheBytes: -1, Readers: []codec.Reader{ddReader(t, codec.DataDogOptions{URL: svc.URL})}})
			if out := roundTripDecode(t, c, golden); !proto.Equal(out, orig) {
				t.Fatal("decoded payload differs from the original")
			}
			reqs := svc.Requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want one GET", len(reqs))
			}
			checkDataDogGet(t, reqs[0], int64(tc.size))
		})
	}
}

// checkDataDogGet checks that a request was a GET the service answered 200, with the
// headers its handlers require.
func checkDataDogGet(t *testing.T, r testenv.DataDogRequest, size int64) {
	t.Helper()
	if r.Method != http.MethodGet || r.Status != http.StatusOK {
		t.Fatalf("%s %s answered %d, want GET 200", r.Method, r.Path, r.Status)
	}
	if got := r.Header.Get("Content-Type"); got != "application/octet-stream" {
		t.Errorf("Content-Type %q", got)
	}
	if got := r.Header.Get("X-Payload-Expected-Content-Length"); got != fmt.Sprint(size) {
		t.Errorf("X-Payload-Expected-Content-Length %q, want %d", got, size)
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
