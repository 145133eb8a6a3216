package temporals3_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/temporals3"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

func mustCodec(t *testing.T, opts codec.Options) *codec.Codec {
	t.Helper()
	c, err := codec.New(memstore.New(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkRefused retrieves variants of a good claim: those a Reader must refuse before use
// are ErrInvalidReference, one naming no object is ErrNotFound.
func checkRefused(t *testing.T, retrieve func(claim map[string]string) error, claim map[string]string) {
	t.Helper()
	with := func(c map[string]string, k, v string) map[string]string { m := maps.Clone(c); m[k] = v; return m }
	for name, bad := range map[string]map[string]string{
		"bucket not allowed": with(claim, "bucket", "elsewhere"),
		"key without hash":   with(claim, "key", "v0/ns/prod/d/sha256/"+strings.Repeat("0", 64)),
		"not v0":             with(claim, "key", "v1/d/sha256/"+claim["hash_value"]),
		"md5":                with(claim, "hash_algorithm", "md5"),
	} {
		if err := retrieve(bad); !errors.Is(err, codec.ErrInvalidReference) {
			t.Errorf("%s: %v, want ErrInvalidReference", name, err)
		}
	}
	missing := strings.Repeat("0", 64)
	if err := retrieve(with(with(claim, "hash_value", missing), "key", "v0/d/sha256/"+missing)); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("missing object: %v, want ErrNotFound", err)
	}
}

// TestReaderVerifies reads Temporal S3 objects on a real versitygw: intact ones decode;
// a tampered object is ErrCorrupt; an object over MaxSize, a bucket not allowed, a key
// for another namespace or not ending in the hash are refused before use.
func TestReaderVerifies(t *testing.T) {
	s3srv := testenv.S3(t, testenv.S3Options{})
	cl := s3srv.NewClient()
	writer := &testenv.TemporalS3Writer{Client: cl, Bucket: s3srv.Bucket}
	ctx := context.Background()
	target := converter.StorageDriverWorkflowInfo{Namespace: "prod", WorkflowType: "My Type/ü", WorkflowID: "id 1", RunID: "r"}
	orig := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")},
		Data: bytes.Repeat([]byte("temporal s3 "), 30<<10)}
	claim, err := writer.Put(ctx, target, orig)
	if err != nil {
		t.Fatal(err)
	}
	if want := "v0/ns/prod/wt/My%20Type%2F%C3%BC/wi/id%201/ri/r/d/sha256/" + claim["hash_value"]; claim["key"] != want {
		t.Fatalf("key %s, want %s", claim["key"], want)
	}
	r, err := temporals3.New(temporals3.Options{Client: cl, Buckets: []string{s3srv.Bucket}})
	if err != nil {
		t.Fatal(err)
	}
	retrieve := func(r *temporals3.Reader, claim map[string]string) ([]*commonpb.Payload, error) {
		return r.Retrieve(converter.StorageDriverRetrieveContext{Context: ctx}, []converter.StorageDriverClaim{{ClaimData: claim}})
	}
	out, err := retrieve(r, claim)
	if err != nil || !proto.Equal(out[0], orig) {
		t.Fatalf("intact object: %v", err)
	}
	// Through the codec (the codec server's path), for the key's namespace only.
	refp := testenv.StorageRef("aws.s3driver", claim)
	c := mustCodec(t, codec.Options{Namespace: "prod", CacheBytes: -1, Readers: []codec.Reader{r}}) // every read reaches S3
	if got, err := c.Decode([]*commonpb.Payload{refp}); err != nil || !proto.Equal(got[0], orig) {
		t.Fatalf("codec decode: %v", err)
	}
	other, _ := c.WithNamespace("qa")
	if _, err := other.Decode([]*commonpb.Payload{refp}); !errors.Is(err, codec.ErrInvalidReference) {
		t.Fatalf("decode for another namespace: %v, want ErrInvalidReference", err)
	}

	small, _ := temporals3.New(temporals3.Options{Client: cl, Buckets: []string{s3srv.Bucket}, MaxSize: 1 << 10})
	if _, err := retrieve(small, claim); !errors.Is(err, driver.ErrCorrupt) {
		t.Fatalf("object over MaxSize: %v, want ErrCorrupt", err)
	}
	checkRefused(t, func(c map[string]string) error { _, err := retrieve(r, c); return err }, claim)

	// Tamper: same key, other bytes.
	data, _ := proto.Marshal(orig)
	data[len(data)/2] ^= 1
	put := &s3.PutObjectInput{Bucket: &s3srv.Bucket, Key: aws.String(claim["key"]), Body: bytes.NewReader(data)}
	if _, err := cl.PutObject(ctx, put); err != nil {
		t.Fatal(err)
	}
	if out, err := retrieve(r, claim); !errors.Is(err, driver.ErrCorrupt) || out != nil {
		t.Fatalf("tampered object: %d payloads, %v; want ErrCorrupt", len(out), err)
	}
	if _, err := c.Decode([]*commonpb.Payload{refp}); !errors.Is(err, driver.ErrCorrupt) {
		t.Fatalf("codec decode of a tampered object: %v, want ErrCorrupt", err)
	}
}
