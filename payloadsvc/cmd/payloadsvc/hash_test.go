package main

import (
	"bytes"
	"encoding/json"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestBinaryHash: --hash (or LONGHAUL_HASH) picks the reference version /codec/encode
// writes, BLAKE3 (v2) by default, SHA-256 (v1) on request; the built binary serves it.
func TestBinaryHash(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   []string
		args  []string
		field string
		v     int
	}{
		{"default", nil, nil, "blake3", 2},
		{"flag", nil, []string{"--hash", "sha256"}, "sha256", 1},
		{"variable", []string{"LONGHAUL_HASH=sha256"}, nil, "sha256", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, append([]string{"LONGHAUL_STORE=mem://"}, tc.env...), tc.args...)
			in, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{{
				Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: bytes.Repeat([]byte{7}, 2<<20)}}})
			if err != nil {
				t.Fatal(err)
			}
			status, body := request(t, "POST", p.url("/codec/default/encode"), bytes.NewReader(in), "Content-Type", "application/json")
			if status != 200 {
				t.Fatalf("encode: %d %s", status, body)
			}
			var out commonpb.Payloads
			if err := protojson.Unmarshal(body, &out); err != nil || len(out.Payloads) != 1 {
				t.Fatalf("encode answer %q: %v", body, err)
			}
			var ref map[string]any
			if err := json.Unmarshal(out.Payloads[0].Data, &ref); err != nil {
				t.Fatal(err)
			}
			if digest, _ := ref[tc.field].(string); ref["v"] != float64(tc.v) || len(digest) != 64 {
				t.Fatalf("reference %s, want v%d with a %s", out.Payloads[0].Data, tc.v, tc.field)
			}
		})
	}
}
