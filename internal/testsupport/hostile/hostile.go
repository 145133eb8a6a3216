// Package hostile builds the inputs an attacker plants in a store or a history, for the
// tests that prove the codec and the payload service bound what such inputs cost, and
// measures what they cost.
package hostile

import (
	"runtime"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// ManyMetadata is a serialized commonpb.Payload with n distinct metadata entries (short
// keys, empty values) and a one-byte Data: about 10 bytes on the wire per entry, and a
// map entry each once parsed.
func ManyMetadata(n int) []byte {
	var b, entry []byte
	for i := 0; i < n; i++ {
		entry = protowire.AppendTag(entry[:0], 1, protowire.BytesType)
		entry = protowire.AppendString(entry, strconv.FormatInt(int64(i), 36))
		entry = protowire.AppendTag(entry, 2, protowire.BytesType)
		entry = protowire.AppendBytes(entry, nil)
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, entry)
	}
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendBytes(b, []byte("x"))
}

// WithUnknownField appends to a serialized message an unknown bytes field (number 15) of
// n zero bytes: proto keeps unknown fields, so they live as long as the message does.
func WithUnknownField(serialized []byte, n int) []byte {
	b := protowire.AppendTag(serialized, 15, protowire.BytesType)
	return protowire.AppendBytes(b, make([]byte, n))
}

// HeapAfterGC is the live heap once garbage is collected (twice: the first cycle may
// leave objects that finalizers or sweeping still hold).
func HeapAfterGC() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
