package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// s3Env is the environment that points the binary's --read-temporal-s3 client at s3srv
// through the AWS default chain, and at nothing on this machine.
func s3Env(t *testing.T, s3srv *testenv.S3Server) []string {
	none := filepath.Join(t.TempDir(), "none")
	return []string{
		"AWS_ACCESS_KEY_ID=" + s3srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3srv.SecretKey, "AWS_REGION=" + s3srv.Region,
		"AWS_ENDPOINT_URL_S3=" + s3srv.Endpoint, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none,
	}
}

// putTemporalS3 writes p as Temporal's S3 driver does for a workflow of namespace ns and
// returns its claim.
func putTemporalS3(t *testing.T, s3srv *testenv.S3Server, ns string, p *commonpb.Payload) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := &testenv.TemporalS3Writer{Client: s3srv.NewClient(), Bucket: s3srv.Bucket}
	claim, err := w.Put(ctx, converter.StorageDriverWorkflowInfo{Namespace: ns, WorkflowType: "W", WorkflowID: "id", RunID: "run"}, p)
	if err != nil {
		t.Fatalf("put the Temporal S3 object for %s: %v", ns, err)
	}
	return claim
}

// tokensFile writes a static tokens file: token-a may use namespace a, token-b b.
func tokensFile(t *testing.T) (tokA, tokB, path string) {
	t.Helper()
	tokA, tokB = "token-for-namespace-a-7f3c9e21d4", "token-for-namespace-b-0b8a6d55e2"
	path = filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte(tokA+" a\n"+tokB+" b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return tokA, tokB, path
}

// TestDoorNamespaceEscape (issue 20, "namespace escape"): with a token for namespace a
// only, a Temporal S3 claim (on a real S3 server) or a DataDog v2 reference whose key
// leads into namespace b is refused with 400 naming the key, and b's data never reaches
// the caller. The same objects decode for b's token under b, so the refusals are the
// containment rule, not a missing object.
func TestDoorNamespaceEscape(t *testing.T) {
	s3srv := testenv.S3(t, testenv.S3Options{})
	dd := startDD(t)
	tokA, tokB, tokens := tokensFile(t)
	p := start(t, append(s3Env(t, s3srv), "LONGHAUL_AUTH_TOKENS_FILE="+tokens),
		"--read-temporal-s3", s3srv.Bucket, "--read-datadog", dd.URL)

	const marker = "SECRET-OF-NAMESPACE-B"
	secret := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"` + marker + `"`)}
	own := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"namespace a's own"`)}
	claimB := putTemporalS3(t, s3srv, "b", secret)
	claimA := putTemporalS3(t, s3srv, "a", own) // so that v0/ns/a/ exists on the server too
	ddKeyB := dataDogKey("b", digestOf(secret.Data), secret.Metadata)
	dd.serveBytes(ddKeyB, secret.Data)
	ddRefB := dataDogRef(t, "v2", ddKeyB, digestOf(secret.Data), int64(len(secret.Data)), secret.Metadata)

	// Controls: each namespace reads its own.
	for _, c := range []struct {
		ns, token string
		ref       *commonpb.Payload
		want      string
	}{
		{"a", tokA, testenv.StorageRef("aws.s3driver", claimA), "namespace a's own"},
		{"b", tokB, testenv.StorageRef("aws.s3driver", claimB), marker},
		{"b", tokB, ddRefB, marker},
	} {
		status, out := post(t, p, "/codec/"+c.ns+"/decode", payloadsBody(t, c.ref), bearer(c.token)...)
		if got := decodedIfOK(t, status, out); got != `"`+c.want+`"` {
			t.Fatalf("control: %s decoding its own object: %d %s", c.ns, status, short(out))
		}
	}

	rest := strings.TrimPrefix(claimB["key"], "v0/ns/b/")
	for _, tc := range []struct{ name, key string }{
		{"dot-dot segment", "v0/ns/a/../b/" + rest},
		{"dot segment, then dot-dot", "v0/ns/a/./../b/" + rest},
		{"empty segment, then dot-dot", "v0/ns/a//../b/" + rest},
		{"percent-encoded separator", "v0/ns/a/..%2Fb/" + rest},
		{"percent-encoded namespace", "v0/ns/a%2F..%2Fb/" + rest},
		{"backslash", `v0/ns/a/..\b/` + rest},
		{"no namespace, dot-dot", "v0/../v0/ns/b/" + rest},
	} {
		claim := map[string]string{}
		for k, v := range claimB {
			claim[k] = v
		}
		claim["key"] = tc.key
		refuseForA(t, p, tokA, "Temporal S3 claim, "+tc.name, testenv.StorageRef("aws.s3driver", claim), marker)
	}
	refuseForA(t, p, tokA, "DataDog v2 reference naming namespace b", ddRefB, marker)
	traversal := strings.Replace(ddKeyB, "/blobs/b/", "/blobs/a/../b/", 1)
	dd.serveBytes(traversal, secret.Data)
	refuseForA(t, p, tokA, "DataDog v2 reference through /blobs/a/../b/",
		dataDogRef(t, "v2", traversal, digestOf(secret.Data), int64(len(secret.Data)), secret.Metadata), marker)
}

// refuseForA decodes ref under namespace a with a's token and fails unless the answer is
// 400 naming the key or its namespace, without b's data; /healthz must still answer.
func refuseForA(t *testing.T, p *proc, tokA, what string, ref *commonpb.Payload, marker string) {
	t.Helper()
	status, out := post(t, p, "/codec/a/decode", payloadsBody(t, ref), bearer(tokA)...)
	mustNotContain(t, what, status, out, marker)
	if status != 400 || !strings.Contains(string(out), "key") && !strings.Contains(string(out), "namespace") {
		t.Errorf("%s, decoded under a: %d %s; want 400 naming the key or its namespace", what, status, short(out))
	}
	healthzWithin(t, p, 5e9)
}

// decodedIfOK is the data of the one payload of a 200 codec answer, else "".
func decodedIfOK(t *testing.T, status int, out []byte) string {
	t.Helper()
	if status != 200 {
		return ""
	}
	ps := decodedPayloads(t, out)
	if len(ps) != 1 {
		return ""
	}
	return string(ps[0].GetData())
}
