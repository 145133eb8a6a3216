package main

import (
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/hostile"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// Issue 20's memory attacks against the built binary under the memory bound: each must
// get its safe answer while the service's peak RSS grows by at most the in-flight budget
// plus rssTarget, and /healthz keeps answering. The figures are logged for the notes.

// longhaulRef is the reference payload for a stored blob of a serialized payload.
func longhaulRef(t *testing.T, digest string, stored, raw int, compression codec.Compression) *commonpb.Payload {
	t.Helper()
	ref := codec.Reference{V: 1, SHA256: digest, Size: int64(stored), RawSize: int64(raw), Compression: compression}
	p, err := ref.Payload()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDoorCacheChargedForWhatItKeeps (issue 20, "the decode cache holds bytes it does not
// count"): 16 different few-KiB blobs, each a tiny Data plus a 16 MiB unknown field,
// zstd-compressed, decoded one after the other: each decodes to its tiny Data or is 502
// corrupt, and the cache keeps what it counts, not 16 buffers of 16 MiB: the service's RSS
// stays within the budget plus 64 MiB.
func TestDoorCacheChargedForWhatItKeeps(t *testing.T) {
	const budget = 192 << 20
	p := startBounded(t, budget, nil)
	refs := make([]*commonpb.Payload, 16)
	for i := range refs {
		tiny := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: []byte(fmt.Sprintf("tiny-%d", i))}
		raw := hostile.WithUnknownField(serialize(t, tiny), 16<<20)
		blob := storedBlob(t, raw, true)
		refs[i] = longhaulRef(t, putBlob(t, p, blob), len(blob), len(raw), "zstd")
		if i == 0 {
			t.Logf("each blob: %d bytes stored, %d serialized", len(blob), len(raw))
		}
	}
	base := rssBaseline(t, p)
	refused := 0
	for i, ref := range refs {
		status, out := post(t, p, "/codec/default/decode", payloadsBody(t, ref))
		switch {
		case status == 502 && strings.Contains(string(out), "corrupt"):
			refused++ // refusing the padded payload is as safe as keeping only its Data
		case status != 200:
			t.Fatalf("decode %d: %d %s, want 200 or 502 corrupt", i, status, short(out))
		case decodedIfOK(t, status, out) != fmt.Sprintf("tiny-%d", i):
			t.Fatalf("decode %d: %s, want tiny-%d", i, short(out), i)
		}
	}
	t.Logf("%d of 16 refused as corrupt", refused)
	healthzWithin(t, p, 5e9)
	checkGrowth(t, p, "cache attack (16 blobs, 16 MiB unknown field each)", base, budget+rssTarget)
}

// TestDoorStoredMetadataCapped (issue 20, "metadata amplification"): a stored blob whose
// payload holds 1.8 million metadata entries is refused (502 corrupt: the service does not
// tell a client why a blob is corrupt; or a 4xx naming the metadata cap), as a request
// with that many is, and costs little memory.
func TestDoorStoredMetadataCapped(t *testing.T) {
	const budget = 64 << 20
	p := startBounded(t, budget, nil)
	raw := hostile.ManyMetadata(1_800_000)
	blob := storedBlob(t, raw, true)
	t.Logf("1.8M metadata entries: %d bytes serialized, %d stored", len(raw), len(blob))
	ref := longhaulRef(t, putBlob(t, p, blob), len(blob), len(raw), "zstd")
	base := rssBaseline(t, p)
	status, out := post(t, p, "/codec/default/decode", payloadsBody(t, ref))
	corrupt := status == 502 && strings.Contains(string(out), "corrupt")
	if named := status >= 400 && status < 500 && strings.Contains(string(out), "metadata"); !corrupt && !named {
		t.Errorf("decode of a blob with 1.8M metadata entries: %d %s; want 502 corrupt, or a 4xx naming the metadata cap", status, short(out))
	}
	healthzWithin(t, p, 5e9)
	checkGrowth(t, p, "metadata amplification (1.8M entries)", base, budget+rssTarget)
}

// randomPayload is a binary/plain payload of n random bytes: nothing compresses it.
func randomPayload(t *testing.T, n int) *commonpb.Payload {
	t.Helper()
	data := make([]byte, n)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}
}

// TestDoorAdmissionEveryKind (issue 20, "admission counts only longhaul references"):
// one 24 MiB payload named by a longhaul reference, an extstore claim, a DataDog v2
// reference and a Temporal S3 claim. A 32 MiB budget refuses the longhaul reference (24
// MiB stored + 24 MiB decoded) with 413; it must refuse the other kinds the same way.
func TestDoorAdmissionEveryKind(t *testing.T) {
	s3srv := testenv.S3(t, testenv.S3Options{})
	dd := startDD(t)
	p := startBounded(t, 32<<20, s3Env(t, s3srv), "--read-datadog", dd.URL, "--read-temporal-s3", s3srv.Bucket)
	orig := randomPayload(t, 24<<20)
	raw := serialize(t, orig)
	digest := putBlob(t, p, raw)
	ref := longhaulRef(t, digest, len(raw), len(raw), "none")
	lh, _ := codec.ParseReference(ref)
	ddKey := dataDogKey("default", digestOf(orig.Data), orig.Metadata)
	dd.serveBytes(ddKey, orig.Data)
	claim := putTemporalS3(t, s3srv, "default", orig)
	base := rssBaseline(t, p)
	for _, tc := range []struct {
		name string
		ref  *commonpb.Payload
	}{
		{"longhaul reference", ref},
		{"extstore claim", testenv.StorageRef("longhaul", lh.Claim("default"))},
		{"DataDog v2 reference", dataDogRef(t, "v2", ddKey, digestOf(orig.Data), int64(len(orig.Data)), orig.Metadata)},
		{"Temporal S3 claim", testenv.StorageRef("aws.s3driver", claim)},
	} {
		status, out := post(t, p, "/codec/default/decode", payloadsBody(t, tc.ref))
		if status != 413 || !strings.Contains(string(out), "max-inflight-bytes") {
			t.Errorf("%s of 24 MiB under a 32 MiB budget: %d %s; want 413 naming --max-inflight-bytes", tc.name, status, short(out))
		}
		healthzWithin(t, p, 5e9)
	}
	checkGrowth(t, p, "24 MiB of every kind under a 32 MiB budget", base, 32<<20+rssTarget)
}

// TestDoorConcurrentClaimsAdmitted (issue 20): 8 concurrent decodes of an extstore claim
// for a 16 MiB payload under a 64 MiB budget: each is answered 200 or 503 with
// Retry-After, and the service's RSS stays within the budget plus 64 MiB.
func TestDoorConcurrentClaimsAdmitted(t *testing.T) {
	const budget = 64 << 20
	p := startBounded(t, budget, nil)
	raw := serialize(t, randomPayload(t, 16<<20))
	ref := longhaulRef(t, putBlob(t, p, raw), len(raw), len(raw), "none")
	lh, _ := codec.ParseReference(ref)
	body := payloadsBody(t, testenv.StorageRef("longhaul", lh.Claim("default")))
	base := rssBaseline(t, p)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		start    = make(chan struct{})
	)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status, hdr, out := doorDo(t, p, "POST", "/codec/default/decode", body, jsonHdr...)
			mu.Lock()
			defer mu.Unlock()
			statuses[status]++
			if status != 200 && (status != 503 || hdr.Get("Retry-After") == "") {
				t.Errorf("concurrent claim decode: %d %s; want 200, or 503 with Retry-After", status, short(out))
			}
		}()
	}
	close(start)
	wg.Wait()
	t.Logf("8 concurrent 16 MiB claim decodes under a 64 MiB budget: %v", statuses)
	if statuses[200] == 0 {
		t.Errorf("no decode succeeded")
	}
	healthzWithin(t, p, 5e9)
	checkGrowth(t, p, "8 concurrent 16 MiB claim decodes", base, budget+rssTarget)
}
