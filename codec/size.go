package codec

import (
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"
)

// payloadSize is proto.Size(p) without allocating: Encode measures every payload of every
// call, and small payloads must pass through for free.
func payloadSize(p *commonpb.Payload) int {
	if p == nil {
		return 0
	}
	if len(p.ExternalPayloads) > 0 || len(p.ProtoReflect().GetUnknown()) > 0 {
		return proto.Size(p)
	}
	n := 0
	for k, v := range p.Metadata {
		entry := 1 + varintLen(len(k)) + len(k) + 1 + varintLen(len(v)) + len(v)
		n += 1 + varintLen(entry) + entry
	}
	if len(p.Data) > 0 {
		n += 1 + varintLen(len(p.Data)) + len(p.Data)
	}
	return n
}

func varintLen(x int) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}
