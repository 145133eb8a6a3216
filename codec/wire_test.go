package codec

import (
	"bytes"
	"io"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

func wirePayloads() map[string]*commonpb.Payload {
	withUnknown := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: []byte("data")}
	withUnknown.ProtoReflect().SetUnknown(protowire.AppendBytes(protowire.AppendTag(nil, 99, protowire.BytesType), []byte("future field")))
	return map[string]*commonpb.Payload{
		"empty":          {},
		"data only":      {Data: bytes.Repeat([]byte("x"), 300)},
		"metadata only":  {Metadata: map[string][]byte{"encoding": []byte("json/plain")}},
		"metadata, data": {Metadata: map[string][]byte{"encoding": []byte("json/plain"), "b": []byte("2"), "a": nil}, Data: []byte(`"hello"`)},
		"external": {Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte("d"),
			ExternalPayloads: []*commonpb.Payload_ExternalPayloadDetails{{SizeBytes: 42}}},
		"unknown fields": withUnknown,
		"large data":     {Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: bytes.Repeat([]byte{7}, 1<<20+3)},
	}
}

// TestWireFormMatchesMarshal: the pieces are byte for byte the deterministic
// serialization, so blobs stored before keep their addresses (dedupe across versions).
func TestWireFormMatchesMarshal(t *testing.T) {
	for name, p := range wirePayloads() {
		t.Run(name, func(t *testing.T) {
			w, err := splitPayload(p)
			if err != nil {
				t.Fatal(err)
			}
			want, err := marshalOpts.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(newPieceReader(w.pieces()))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("pieces differ from Marshal:\n got %x\nwant %x", got, want)
			}
			if w.size() != int64(len(want)) {
				t.Fatalf("size %d, want %d", w.size(), len(want))
			}
			if len(p.GetData()) > 0 && &w.data[0] != &p.Data[0] {
				t.Fatal("Data was copied")
			}
		})
	}
}

// TestUnmarshalAliased: the payload comes back equal, unknown fields included, with Data
// pointing into the read buffer.
func TestUnmarshalAliased(t *testing.T) {
	for name, p := range wirePayloads() {
		t.Run(name, func(t *testing.T) {
			buf, err := marshalOpts.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := unmarshalAliased(buf)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, p) {
				t.Fatalf("got %v, want %v", got, p)
			}
			if !bytes.Equal(got.ProtoReflect().GetUnknown(), p.ProtoReflect().GetUnknown()) {
				t.Fatal("unknown fields lost")
			}
			if n := len(got.Data); n > 0 {
				before := bytes.Clone(buf)
				got.Data[0] ^= 0xff // aliased: the buffer changes with it
				aliased := !bytes.Equal(buf, before)
				got.Data[0] ^= 0xff
				if !aliased || cap(got.Data) != n {
					t.Fatal("Data does not alias the buffer, or may be appended into it")
				}
			}
		})
	}
}

// TestUnmarshalAliasedOrder: fields after Data and a repeated Data field parse as
// proto.Unmarshal parses them (the last Data wins), without corrupting the buffer.
func TestUnmarshalAliasedOrder(t *testing.T) {
	var b []byte
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte("first"))
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	entry := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte("encoding"))
	entry = protowire.AppendBytes(protowire.AppendTag(entry, 2, protowire.BytesType), []byte("json/plain"))
	b = protowire.AppendBytes(b, entry)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte("second"))
	orig := bytes.Clone(b)
	want := &commonpb.Payload{}
	if err := proto.Unmarshal(b, want); err != nil {
		t.Fatal(err)
	}
	got, err := unmarshalAliased(b)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if !bytes.Equal(b, orig) {
		t.Fatal("buffer modified")
	}
	if _, err := unmarshalAliased([]byte{0x12, 0xff}); err == nil {
		t.Fatal("truncated field parsed")
	}
}

// TestPieceReader: reads, ReadAt across pieces, Seek and WriteTo agree with the bytes
// joined.
func TestPieceReader(t *testing.T) {
	pieces := [][]byte{[]byte("ab"), []byte("cdefg"), []byte("h")}
	joined := []byte("abcdefgh")
	r := newPieceReader(pieces)
	if r.Size() != 8 {
		t.Fatalf("Size %d", r.Size())
	}
	for off := 0; off <= 8; off++ {
		for n := 0; n <= 8-off; n++ {
			p := make([]byte, n)
			got, err := r.ReadAt(p, int64(off))
			if got != n || !bytes.Equal(p, joined[off:off+n]) || (err != nil && !(err == io.EOF && off+n == 8)) {
				t.Fatalf("ReadAt(%d, %d) = %d, %v, %q", n, off, got, err, p)
			}
		}
	}
	if _, err := r.Seek(3, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if n, err := r.WriteTo(&out); err != nil || n != 5 || out.String() != "defgh" {
		t.Fatalf("WriteTo after Seek(3) = %d, %v, %q", n, err, out.String())
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(all, joined) {
		t.Fatalf("ReadAll = %q, %v", all, err)
	}
}
