package codec

import (
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"
)

func TestPayloadSizeMatchesProto(t *testing.T) {
	for _, p := range []*commonpb.Payload{
		nil,
		{},
		{Data: []byte("x")},
		{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: make([]byte, 300)},
		{Metadata: map[string][]byte{"a": nil, "": []byte("v")}},
		{Metadata: map[string][]byte{"encoding": []byte("binary/plain"), "k": make([]byte, 200)}, Data: make([]byte, 1<<20)},
		{Data: make([]byte, 127)}, {Data: make([]byte, 128)}, {Data: make([]byte, 16384)},
	} {
		if got, want := payloadSize(p), proto.Size(p); got != want {
			t.Errorf("payloadSize = %d, proto.Size = %d for %d data bytes, %d metadata", got, want, len(p.GetData()), len(p.GetMetadata()))
		}
	}
}
