package hostile_test

import (
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/hostile"
)

// TestInputsParseAsClaimed: what the builders make is what the attack tests say it is.
func TestInputsParseAsClaimed(t *testing.T) {
	var p commonpb.Payload
	if err := proto.Unmarshal(hostile.ManyMetadata(1000), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.GetMetadata()) != 1000 || string(p.GetData()) != "x" {
		t.Fatalf("ManyMetadata(1000): %d entries, data %q", len(p.GetMetadata()), p.GetData())
	}
	base, err := proto.Marshal(&commonpb.Payload{Data: []byte("tiny")})
	if err != nil {
		t.Fatal(err)
	}
	var q commonpb.Payload
	if err := proto.Unmarshal(hostile.WithUnknownField(base, 1<<20), &q); err != nil {
		t.Fatal(err)
	}
	if string(q.GetData()) != "tiny" || len(q.ProtoReflect().GetUnknown()) < 1<<20 {
		t.Fatalf("WithUnknownField: data %q, %d unknown bytes", q.GetData(), len(q.ProtoReflect().GetUnknown()))
	}
	if h := hostile.HeapAfterGC(); h <= 0 {
		t.Fatalf("HeapAfterGC: %d", h)
	}
}
