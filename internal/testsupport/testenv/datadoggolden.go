package testenv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
)

// DataDogCase is one reference DataDog's codec writes, as pinned in the golden files
// codec/foreign/datadog/testdata/datadog_<name>.golden.json: a codec version, a payload
// kind and size.
type DataDogCase struct {
	Version, Kind string
	Size          int
}

// DataDogCases are v1 and v2, 10 KiB, 3 MiB and 40 MiB, random and JSON; plus v1 as
// written before v2 existed ("location" in place of "key").
func DataDogCases() []DataDogCase {
	var cs []DataDogCase
	for _, v := range []string{DataDogV1, DataDogV2} {
		for _, size := range []int{10 << 10, 3 << 20, 40 << 20} {
			for _, kind := range []string{"random", "json"} {
				cs = append(cs, DataDogCase{v, kind, size})
			}
		}
	}
	return append(cs, DataDogCase{DataDogV1Legacy, "random", 10 << 10})
}

// Name is the case's name, as in its golden file's: v2_3MiB_json.
func (c DataDogCase) Name() string {
	size := fmt.Sprintf("%dKiB", c.Size>>10)
	if c.Size >= 1<<20 {
		size = fmt.Sprintf("%dMiB", c.Size>>20)
	}
	return fmt.Sprintf("%s_%s_%s", c.Version, size, c.Kind)
}

// Payload is the case's original payload, the same on every call (the golden reference
// holds its digest).
func (c DataDogCase) Payload() *commonpb.Payload {
	return DataDogPayload(c.Kind, c.Size, uint64(c.Size)+uint64(len(c.Kind)))
}

// GoldenFile is the path of the case's golden file in dir (codec/foreign/datadog/testdata).
func (c DataDogCase) GoldenFile(dir string) string {
	return filepath.Join(dir, "datadog_"+c.Name()+".golden.json")
}

// DataDogGoldenRef is a reference payload as a golden file holds it: its metadata as
// text and its data verbatim (the exact bytes DataDog's codec writes are JSON themselves).
func DataDogGoldenRef(p *commonpb.Payload) []byte {
	md := map[string]string{}
	for k, v := range p.GetMetadata() {
		md[k] = string(v)
	}
	m, err := json.Marshal(md) // a map of strings always marshals
	if err != nil {
		panic(err)
	}
	return fmt.Appendf(nil, "{\"metadata\":%s,\n \"data\":%s}\n", m, p.GetData())
}

// ParseDataDogGoldenRef is the inverse of DataDogGoldenRef.
func ParseDataDogGoldenRef(b []byte) (*commonpb.Payload, error) {
	var g struct {
		Metadata map[string]string
		Data     json.RawMessage
	}
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("testenv: DataDog golden reference: %w", err)
	}
	p := &commonpb.Payload{Metadata: map[string][]byte{}, Data: g.Data}
	for k, v := range g.Metadata {
		p.Metadata[k] = []byte(v)
	}
	return p, nil
}

// CheckDataDogGet checks that r was a blob GET the service answered 200, with the
// headers DataDog's GET handlers require for a blob of size bytes.
func CheckDataDogGet(t testing.TB, r DataDogRequest, size int64) {
	t.Helper()
	if r.Method != http.MethodGet || r.Status != http.StatusOK {
		t.Fatalf("%s %s answered %d; want GET 200", r.Method, r.Path, r.Status)
	}
	if got := r.Header.Get("Content-Type"); got != "application/octet-stream" {
		t.Errorf("GET with Content-Type %q; want application/octet-stream", got)
	}
	if got := r.Header.Get("X-Payload-Expected-Content-Length"); got != strconv.FormatInt(size, 10) {
		t.Errorf("GET with X-Payload-Expected-Content-Length %q; want %d", got, size)
	}
}
