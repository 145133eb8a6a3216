package main

import (
	"bytes"
	"net/http"
	"os"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// Issue 20: DataDog references exactly as DataDog's codec writes them (the golden files
// of codec/foreign/datadog/testdata, which that package's TestDataDogGolden derives from
// its code) decode through /codec/decode of the built binary started with --read-datadog,
// against the double of DataDog's service that enforces its handlers' request checks.

// goldenDir holds the DataDog golden references, shared with the datadog and codec
// packages' tests.
const goldenDir = "../../../codec/foreign/datadog/testdata"

// ddFlags are the limits a 40 MiB payload's answer (base64, about 54 MiB) fits in.
var ddFlags = []string{"--max-codec-body-bytes", "128MiB", "--max-inflight-bytes", "512MiB"}

// seedGolden stores the case's original payload in dd as DataDog's codec does (its PUT)
// and returns the case's golden reference, which must be the reference that PUT gave:
// the golden file names the blob the double now holds.
func seedGolden(t *testing.T, dd *testenv.DataDogService, tc testenv.DataDogCase, orig *commonpb.Payload) *commonpb.Payload {
	t.Helper()
	ref, err := testenv.DataDogWriter{URL: dd.URL, Version: tc.Version, Namespace: "default"}.Put(t.Context(), orig)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(tc.GoldenFile(goldenDir))
	if err != nil {
		t.Fatal(err)
	}
	golden, err := testenv.ParseDataDogGoldenRef(b)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(golden, ref) {
		t.Fatalf("%s is not the reference DataDog's codec writes for the payload:\n%s", tc.GoldenFile(goldenDir), testenv.DataDogGoldenRef(ref))
	}
	return golden
}

// TestDoorDataDogGolden (issue 20): each golden DataDog reference (v1, v2 and v1 before
// "key"; 10 KiB, 3 MiB and 40 MiB; random and JSON) POSTed to /codec/default/decode of
// the binary decodes to the original payload byte for byte, after one GET that carries
// the headers DataDog's handlers require. Cases run one after another, each with its own
// double and service, so the 40 MiB blobs are not all held at once.
func TestDoorDataDogGolden(t *testing.T) {
	for _, tc := range testenv.DataDogCases() {
		t.Run(tc.Name(), func(t *testing.T) {
			dd := testenv.StartDataDogService(t)
			p := start(t, nil, append([]string{"--read-datadog", dd.URL}, ddFlags...)...)
			orig := tc.Payload()
			golden := seedGolden(t, dd, tc, orig)
			before := len(dd.Requests())
			status, out := post(t, p, "/codec/default/decode", payloadsBody(t, golden))
			if status != 200 {
				t.Fatalf("decode of the golden reference: %d %s; want 200", status, short(out))
			}
			ps := decodedPayloads(t, out)
			if len(ps) != 1 || !bytes.Equal(ps[0].GetData(), orig.Data) || !bytes.Equal(serialize(t, ps[0]), serialize(t, orig)) {
				t.Fatalf("decode of the golden reference: %d payloads, not the original %d bytes", len(ps), len(orig.Data))
			}
			reqs := dd.Requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("the service saw %d requests; want one GET", len(reqs))
			}
			testenv.CheckDataDogGet(t, reqs[0], int64(tc.Size))
		})
	}
}

// TestDoorDataDogGoldenFaults (issue 20): a golden reference the service answers with a
// body that is not the blob it names (tampered, truncated, stored longer, over-long) is
// ErrCorrupt in the codec and 502 through the service, without Retry-After and after one
// GET; a 4xx from the service is 502 too. The service answers /healthz after each, and
// the reference decodes once the double heals.
func TestDoorDataDogGoldenFaults(t *testing.T) {
	dd := testenv.StartDataDogService(t)
	p := start(t, nil, append([]string{"--read-datadog", dd.URL}, ddFlags...)...)
	faults := []struct {
		name  string
		fault testenv.DataDogFault
	}{
		{"tampered", testenv.DataDogFault{Kind: testenv.DataDogTampered}},
		{"truncated", testenv.DataDogFault{Kind: testenv.DataDogTruncated}},
		{"stored longer", testenv.DataDogFault{Kind: testenv.DataDogStoredLonger}},
		{"over-long", testenv.DataDogFault{Kind: testenv.DataDogOverLong}},
		{"400", testenv.DataDogFault{Kind: testenv.DataDogStatus, Status: http.StatusBadRequest}},
		{"403", testenv.DataDogFault{Kind: testenv.DataDogStatus, Status: http.StatusForbidden}},
	}
	for _, tc := range []testenv.DataDogCase{
		{Version: testenv.DataDogV1, Kind: "json", Size: 3 << 20},
		{Version: testenv.DataDogV2, Kind: "random", Size: 3 << 20},
	} {
		golden := seedGolden(t, dd, tc, tc.Payload())
		for _, f := range faults {
			t.Run(tc.Name()+"/"+f.name, func(t *testing.T) {
				dd.SetFault(f.fault)
				defer dd.SetFault(testenv.DataDogFault{})
				before := dd.Gets()
				began := time.Now()
				status, hdr, out := doorDo(t, p, "POST", "/codec/default/decode", payloadsBody(t, golden), jsonHdr...)
				if status != http.StatusBadGateway || hdr.Get("Retry-After") != "" {
					t.Errorf("%d (Retry-After %q) %s; want 502 without Retry-After", status, hdr.Get("Retry-After"), short(out))
				}
				if n := dd.Gets() - before; n != 1 {
					t.Errorf("the service was asked %d times over %s; want once (not retried)", n, time.Since(began).Round(time.Millisecond))
				}
				healthzWithin(t, p, 5*time.Second)
			})
		}
		// The same reference from the healed service decodes: the 502s were the faults'.
		if status, out := post(t, p, "/codec/default/decode", payloadsBody(t, golden)); status != 200 {
			t.Errorf("%s from the healed service: %d %s; want 200", tc.Name(), status, short(out))
		}
	}
}
