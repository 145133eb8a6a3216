package payloadsvc

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

func jsonPayload(t testing.TB, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// postPayloads sends payloads to a codec endpoint and parses the answer.
func (s *service) postPayloads(t testing.TB, path string, hdr map[string]string, ps ...*commonpb.Payload) []*commonpb.Payload {
	t.Helper()
	status, _, body := s.do(t, "POST", path, payloadsJSON(t, ps...), hdr)
	if status != 200 {
		t.Fatalf("POST %s: %d %s", path, status, short(body))
	}
	var out commonpb.Payloads
	if err := protojson.Unmarshal(body, &out); err != nil {
		t.Fatalf("POST %s: answer is not protojson Payloads: %v", path, err)
	}
	if len(out.Payloads) != len(ps) {
		t.Fatalf("POST %s: %d payloads in, %d out", path, len(ps), len(out.Payloads))
	}
	return out.Payloads
}

// TestCodecEndpoints: encode offloads what is large and passes the rest; decode
// restores it, by either way of naming the namespace, with odd paths and query strings.
func TestCodecEndpoints(t *testing.T) {
	svc := startService(t, nil, Options{})
	big := jsonPayload(t, strings.Repeat("longhaul ", 100<<10)) // ~900 KiB: over the threshold
	small := jsonPayload(t, map[string]int{"n": 42})
	foreign := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/encrypted"), "key-id": []byte("k1")}, Data: []byte{1, 2, 3}}

	enc := svc.postPayloads(t, "/codec/default/encode", nil, big, small, foreign)
	if !codec.IsReference(enc[0]) {
		t.Fatalf("encode left the %d-byte payload inline", proto.Size(big))
	}
	if !proto.Equal(enc[1], small) || !proto.Equal(enc[2], foreign) {
		t.Fatal("encode changed payloads it should pass through")
	}
	if proto.Size(enc[0]) > 512 {
		t.Fatalf("reference is %d bytes", proto.Size(enc[0]))
	}

	for _, tc := range []struct {
		path string
		hdr  map[string]string
	}{
		{"/codec/default/decode", nil},                                       // the CLI's way
		{"/codec/decode", map[string]string{"X-Namespace": "default"}},       // the UI's way
		{"/codec//decode", map[string]string{"X-Namespace": "default"}},      // endpoint with a trailing slash
		{"/codec/default/decode?x=1&y", nil},                                 // query strings are ignored
		{"/codec/default/decode", map[string]string{"X-Namespace": "other"}}, // the path wins
	} {
		dec := svc.postPayloads(t, tc.path, tc.hdr, enc...)
		for i, want := range []*commonpb.Payload{big, small, foreign} {
			if !proto.Equal(dec[i], want) {
				t.Fatalf("POST %s %v: payload %d did not round-trip", tc.path, tc.hdr, i)
			}
		}
	}

	// Namespaces are separate key spaces: another namespace does not see the blob.
	status, _, body := svc.do(t, "POST", "/codec/other/decode", payloadsJSON(t, enc[0]), nil)
	if status != 404 {
		t.Fatalf("decode in another namespace: %d %s, want 404", status, short(body))
	}
}

// TestCodecToleratesUnknownFields: newer clients may send fields this build lacks.
func TestCodecToleratesUnknownFields(t *testing.T) {
	svc := startService(t, nil, Options{})
	body := `{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"IjQyIg==","externalPayloads":[],"fromTheFuture":{"x":1}}],"alsoNew":true}`
	status, _, out := svc.do(t, "POST", "/codec/default/decode", []byte(body), nil)
	if status != 200 {
		t.Fatalf("decode with unknown fields: %d %s", status, short(out))
	}
	var ps commonpb.Payloads
	if err := protojson.Unmarshal(out, &ps); err != nil || len(ps.Payloads) != 1 || string(ps.Payloads[0].Data) != `"42"` {
		t.Fatalf("answer %s (err %v), want the payload passed through", short(out), err)
	}
	// The SDK's remote codec marshals with encoding/json, not protojson: snake_case.
	legacy := `{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"IjQyIg==","external_payloads":null}]}`
	if status, _, out := svc.do(t, "POST", "/codec/default/decode", []byte(legacy), nil); status != 200 {
		t.Fatalf("decode of an encoding/json body: %d %s", status, short(out))
	}
	// No payloads at all is a valid, empty answer.
	if status, _, out := svc.do(t, "POST", "/codec/default/decode", []byte(`{}`), nil); status != 200 || strings.TrimSpace(string(out)) != "{}" {
		t.Fatalf("decode of {}: %d %s, want 200 {}", status, short(out))
	}
}

// TestSDKRemoteCodec: the SDK's own remote codec, pointed at the service, round-trips
// values through a DataConverter, and what it encoded is what a worker's codec reads.
func TestSDKRemoteCodec(t *testing.T) {
	auth, _ := NewTokenAuthorizer(map[string][]string{tokenDefault: {"default"}})
	svc := startService(t, nil, Options{Authorizer: auth})
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: svc.URL + "/codec/default",
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+tokenDefault)
			return nil
		},
	})
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), remote)

	type record struct {
		ID   int
		Blob []byte
	}
	in := record{ID: 7, Blob: bytes.Repeat([]byte("0123456789abcdef"), 200<<10)} // 3.2 MiB
	ps, err := dc.ToPayloads(in, "small")
	if err != nil {
		t.Fatal(err)
	}
	if !codec.IsReference(ps.Payloads[0]) || codec.IsReference(ps.Payloads[1]) {
		t.Fatal("remote encode: want the large value offloaded and the small one inline")
	}
	var out record
	var s string
	if err := dc.FromPayloads(ps, &out, &s); err != nil {
		t.Fatal(err)
	}
	if out.ID != in.ID || !bytes.Equal(out.Blob, in.Blob) || s != "small" {
		t.Fatal("remote codec round trip changed the values")
	}

	// A worker's own codec on the same store decodes what the service encoded.
	local, err := codec.New(svc.store, codec.Options{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := local.Decode(ps.Payloads[:1])
	if err != nil {
		t.Fatal(err)
	}
	if err := converter.GetDefaultDataConverter().FromPayload(dec[0], &out); err != nil || !bytes.Equal(out.Blob, in.Blob) {
		t.Fatalf("local decode of the service's reference: %v", err)
	}

	// Without the token, the SDK reports the service's refusal.
	anon := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{Endpoint: svc.URL + "/codec/default"})
	_, err = anon.Decode(ps.Payloads)
	if err == nil || !strings.Contains(err.Error(), "Unauthorized") || !strings.Contains(err.Error(), "missing bearer token") {
		t.Fatalf("remote decode without token: err = %v, want Unauthorized naming the problem", err)
	}
	if errors.Is(err, driver.ErrNotFound) {
		t.Fatal("unexpected not-found")
	}
}

// TestCodecConcurrentNamespaces: one codec per namespace, created once, used safely.
func TestCodecConcurrentNamespaces(t *testing.T) {
	svc := startService(t, nil, Options{})
	big := jsonPayload(t, strings.Repeat("x", 400<<10))
	body := payloadsJSON(t, big)
	done := make(chan error, 8)
	for i := 0; i < 8; i++ {
		ns := []string{"a", "b"}[i%2]
		go func() {
			status, _, out, err := svc.try("POST", "/codec/"+ns+"/encode", body, nil)
			if err == nil && status != 200 {
				err = fmt.Errorf("%d %s", status, out)
			}
			done <- err
		}()
	}
	for i := 0; i < 8; i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(time.Minute):
			t.Fatal("concurrent encodes did not finish")
		}
	}
	if n := svc.h.codecs.n.Load(); n != 2 {
		t.Fatalf("%d codecs cached, want one per namespace (2)", n)
	}
}
