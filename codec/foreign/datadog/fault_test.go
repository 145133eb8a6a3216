package datadog_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/datadog"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// withSize returns a copy of a DataDog reference claiming size bytes.
func withSize(t *testing.T, ref *commonpb.Payload, size int) *commonpb.Payload {
	t.Helper()
	out := proto.Clone(ref).(*commonpb.Payload)
	i := strings.Index(string(out.Data), `"size":`)
	j := i + len(`"size":`) + strings.IndexByte(string(out.Data[i+len(`"size":`):]), ',')
	out.Data = []byte(string(out.Data[:i]) + `"size":` + strconv.Itoa(size) + string(out.Data[j:]))
	return out
}

// TestDataDogCorruptBodies: what the service sends that is not the blob the reference
// names (tampered, truncated, stored longer, over-long, a reference claiming another
// length than stored) is ErrCorrupt after one GET, never retried.
func TestDataDogCorruptBodies(t *testing.T) {
	svc := testenv.StartDataDogService(t)
	orig := testenv.DataDogPayload("random", 300<<10, 7)
	n := len(orig.Data)
	cases := []struct {
		name  string
		fault testenv.DataDogFaultKind
		size  int // the reference's claimed size
	}{
		{"tampered", testenv.DataDogTampered, n},
		{"truncated", testenv.DataDogTruncated, n},
		{"stored longer", testenv.DataDogStoredLonger, n},
		{"over-long body", testenv.DataDogOverLong, n},
		{"claims less than stored", testenv.DataDogHealthy, n - 1},
		{"claims more than stored", testenv.DataDogHealthy, n + 1},
		{"claims zero", testenv.DataDogHealthy, 0},
	}
	for _, version := range []string{"v1", "v2"} {
		ref := svc.Ref(version, "default", orig)
		for _, tc := range cases {
			t.Run(version+"/"+tc.name, func(t *testing.T) {
				svc.SetFault(testenv.DataDogFault{Kind: tc.fault})
				defer svc.SetFault(testenv.DataDogFault{})
				r := ddReader(t, datadog.Options{URL: svc.URL, Retry: fastRetry})
				c := newCodec(t, memstore.New(), codec.Options{CacheBytes: -1, Readers: []codec.Reader{r}})
				before := svc.Gets()
				out, err := c.Decode([]*commonpb.Payload{withSize(t, ref, tc.size)})
				if !errors.Is(err, driver.ErrCorrupt) || out != nil {
					t.Fatalf("got %d payloads, %v; want ErrCorrupt", len(out), err)
				}
				if got := svc.Gets() - before; got != 1 {
					t.Fatalf("%d GETs, want 1 (corruption is not retried)", got)
				}
			})
		}
	}
}

// TestDataDogStatuses: the service's 4xx is permanent (one GET; 404 is ErrNotFound), 5xx
// and 429 are retried, and a redirect is followed within the service's origin only.
func TestDataDogStatuses(t *testing.T) {
	svc := testenv.StartDataDogService(t)
	elsewhere := testenv.StartDataDogService(t)
	orig := testenv.DataDogPayload("json", 64<<10, 8)
	ref := svc.Ref("v2", "default", orig)
	elsewhere.Ref("v2", "default", orig) // the other origin could answer it
	var key struct{ Key string }
	mustUnmarshalJSON(t, ref.Data, &key)
	cases := []struct {
		name      string
		fault     testenv.DataDogFault
		wantErr   error // nil: decodes
		permanent bool
		gets      int64
	}{
		{"400", testenv.DataDogFault{Kind: testenv.DataDogStatus, Status: 400}, nil, true, 1},
		{"403", testenv.DataDogFault{Kind: testenv.DataDogStatus, Status: 403}, nil, true, 1},
		{"404", testenv.DataDogFault{Kind: testenv.DataDogStatus, Status: 404}, driver.ErrNotFound, true, 1},
		{"500 once", testenv.DataDogFault{Kind: testenv.DataDogStatus, Status: 500, Times: 1}, nil, false, 2},
		{"503 twice", testenv.DataDogFault{Kind: testenv.DataDogStatus, Status: 503, Times: 2}, nil, false, 3},
		{"429 once", testenv.DataDogFault{Kind: testenv.DataDogStatus, Status: 429, Times: 1}, nil, false, 2},
		{"302 same origin", testenv.DataDogFault{Kind: testenv.DataDogRedirect, Times: 1,
			Location: svc.URL + "/v2/blobs/get?key=" + key.Key}, nil, false, 2},
		{"307 same origin", testenv.DataDogFault{Kind: testenv.DataDogRedirect, Status: 307, Times: 1,
			Location: svc.URL + "/v2/blobs/get?key=" + key.Key}, nil, false, 2},
		{"302 other origin", testenv.DataDogFault{Kind: testenv.DataDogRedirect,
			Location: elsewhere.URL + "/v2/blobs/get?key=" + key.Key}, nil, true, 1},
		{"308 other origin", testenv.DataDogFault{Kind: testenv.DataDogRedirect, Status: 308,
			Location: elsewhere.URL + "/v2/blobs/get?key=" + key.Key}, nil, true, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc.SetFault(tc.fault)
			defer svc.SetFault(testenv.DataDogFault{})
			r := ddReader(t, datadog.Options{URL: svc.URL, Retry: fastRetry})
			c := newCodec(t, memstore.New(), codec.Options{CacheBytes: -1, Readers: []codec.Reader{r}})
			before, otherBefore := svc.Gets(), elsewhere.Gets()
			out, err := c.Decode([]*commonpb.Payload{ref})
			switch {
			case tc.permanent && (err == nil || !driver.IsPermanent(err) || errors.Is(err, driver.ErrCorrupt)):
				t.Fatalf("got %v; want a permanent error", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("got %v; want %v", err, tc.wantErr)
			case !tc.permanent && (err != nil || !proto.Equal(out[0], orig)):
				t.Fatalf("got %v; want the payload after retries", err)
			}
			if got := svc.Gets() - before; got != tc.gets {
				t.Errorf("%d GETs, want %d", got, tc.gets)
			}
			if got := elsewhere.Gets() - otherBefore; got != 0 {
				t.Errorf("the other origin got %d requests", got)
			}
			if !tc.permanent {
				reqs := svc.Requests()
				testenv.CheckDataDogGet(t, reqs[len(reqs)-1], int64(len(orig.Data)))
			}
		})
	}
}

func mustUnmarshalJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// TestDataDogRequestsAsTheServiceRequires: every GET the reader sends passes the real
// handlers' checks, on a service that serves v2 alone (as since 2023-02) too, where v1
// references are not found.
func TestDataDogRequestsAsTheServiceRequires(t *testing.T) {
	svc := testenv.StartDataDogServiceWith(t, testenv.DataDogServiceOptions{V2Only: true})
	orig := testenv.DataDogPayload("random", 200<<10, 9)
	ref := svc.Ref("v2", "default", orig)
	r := ddReader(t, datadog.Options{URL: svc.URL + "/"})
	c := newCodec(t, memstore.New(), codec.Options{CacheBytes: -1, Readers: []codec.Reader{r}})
	if out := roundTripDecode(t, c, ref); !proto.Equal(out, orig) {
		t.Fatal("decoded payload differs")
	}
	v1 := &commonpb.Payload{Metadata: ref.Metadata, Data: ref.Data}
	v1.Metadata = map[string][]byte{"encoding": []byte("json/plain"), "temporal.io/remote-codec": []byte("v1")}
	if _, err := c.Decode([]*commonpb.Payload{v1}); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("v1 on a v2-only service: %v, want ErrNotFound", err)
	}
	for _, r := range svc.Requests() {
		if r.Method == http.MethodGet && r.Status == http.StatusBadRequest {
			t.Fatalf("the service refused %s %s", r.Method, r.Path)
		}
	}
}
