package codec

import (
	"errors"
	"fmt"
	"io"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// marshalOpts makes equal payloads serialize to equal bytes (metadata is a map), so
// equal payloads get one content address.
var marshalOpts = proto.MarshalOptions{Deterministic: true}

// Field numbers of commonpb.Payload.Metadata and Data.
const (
	metadataField = 1
	dataField     = 2
)

// wireForm is the deterministic serialization of a payload in three pieces, so that a
// large Data is hashed, compressed and stored in place, never copied: head holds the
// fields before data (the metadata) and data's tag and length, tail the fields after it
// (external payload details, unknown fields). head+data+tail is byte for byte what
// proto.Marshal with Deterministic gives, so blobs written before keep deduplicating.
type wireForm struct {
	head, data, tail []byte
}

func (w wireForm) size() int64 { return int64(len(w.head) + len(w.data) + len(w.tail)) }

// pieces returns the non-empty pieces in order.
func (w wireForm) pieces() [][]byte {
	out := make([][]byte, 0, 3)
	for _, b := range [][]byte{w.head, w.data, w.tail} {
		if len(b) > 0 {
			out = append(out, b)
		}
	}
	return out
}

// splitPayload serializes everything of p but Data (small) and places Data between.
func splitPayload(p *commonpb.Payload) (wireForm, error) {
	shell := &commonpb.Payload{Metadata: p.GetMetadata(), ExternalPayloads: p.GetExternalPayloads()}
	if u := p.ProtoReflect().GetUnknown(); len(u) > 0 {
		shell.ProtoReflect().SetUnknown(u)
	}
	rest, err := marshalOpts.Marshal(shell)
	if err != nil {
		return wireForm{}, fmt.Errorf("marshal payload: %w", err)
	}
	// Fields are written in field-number order, unknown fields last: the head is the run
	// of fields numbered below Data's.
	i := 0
	for i < len(rest) {
		num, typ, n := protowire.ConsumeTag(rest[i:])
		if n < 0 {
			return wireForm{}, fmt.Errorf("marshal payload: %w", protowire.ParseError(n))
		}
		if num >= dataField {
			break
		}
		m := protowire.ConsumeFieldValue(num, typ, rest[i+n:])
		if m < 0 {
			return wireForm{}, fmt.Errorf("marshal payload: %w", protowire.ParseError(m))
		}
		i += n + m
	}
	head := rest[:i:i]
	if len(p.GetData()) > 0 { // proto3 leaves empty bytes out
		head = protowire.AppendTag(head, dataField, protowire.BytesType)
		head = protowire.AppendVarint(head, uint64(len(p.GetData())))
	}
	return wireForm{head: head, data: p.GetData(), tail: rest[i:]}, nil
}

// Caps on what one payload holds besides its Data (metadata, external payload details,
// unknown fields), for stored blobs and codec requests alike: each metadata entry costs
// a map entry on decode, so a small blob of millions of entries would cost gigabytes.
// Encode refuses a payload over them, so a blob the codec wrote always decodes.
const (
	// maxMetadataEntries bounds the metadata entries of one payload.
	maxMetadataEntries = 64
	// maxMetadataBytes bounds the serialized bytes of one payload other than its Data.
	maxMetadataBytes = 256 << 10
)

// CheckMetadata checks a payload's metadata against the caps every reader applies: at most
// 64 entries and 256 KiB serialized besides Data. Errors wrap ErrTooLarge.
func CheckMetadata(md map[string][]byte) error {
	n := 0
	for k, v := range md {
		n += len(k) + len(v)
	}
	return checkShell(len(md), n)
}

func checkShell(entries, bytes int) error {
	switch {
	case entries > maxMetadataEntries:
		return fmt.Errorf("%w: payload has %d metadata entries, over %d", ErrTooLarge, entries, maxMetadataEntries)
	case bytes > maxMetadataBytes:
		return fmt.Errorf("%w: payload has %d bytes besides its data, over %d", ErrTooLarge, bytes, maxMetadataBytes)
	}
	return nil
}

// unmarshalStored turns verified stored bytes into the payload they hold (FormPayload),
// or a payload of Data alone (FormData: its metadata comes from the reference). A result
// whose Data is much smaller than the buffer it was read into is copied out, so that what
// the cache keeps is what it counts.
func unmarshalStored(raw []byte, form Form) (*commonpb.Payload, error) {
	if form == FormData {
		return &commonpb.Payload{Data: raw}, nil
	}
	p, err := unmarshalAliased(raw)
	if err != nil {
		return nil, fmt.Errorf("unmarshal payload: %w", err)
	}
	if d := p.GetData(); len(d) < cap(raw)/2 && len(d) > 0 {
		p.Data = append([]byte(nil), d...)
	}
	return p, nil
}

// unmarshalAliased parses a serialized payload whose Data aliases buf instead of being
// copied (proto.Unmarshal always copies bytes fields): the other fields, small, go
// through proto.Unmarshal, so unknown fields survive. buf must not change afterwards.
// The fields besides Data are held to maxMetadataEntries and maxMetadataBytes before
// anything is built from them.
func unmarshalAliased(buf []byte) (*commonpb.Payload, error) {
	var (
		data        []byte
		haveData    bool
		rest        []byte // every field but Data, in order
		restAliased = true // rest is buf[:len(rest)]: extended in place while contiguous
		entries     int
	)
	for i := 0; i < len(buf); {
		num, typ, n := protowire.ConsumeTag(buf[i:])
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, buf[i+n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		if num == metadataField {
			entries++
		}
		switch {
		case num == dataField && typ == protowire.BytesType:
			v, _ := protowire.ConsumeBytes(buf[i+n:])
			data, haveData = v[:len(v):len(v)], true // the last one wins, as in proto.Unmarshal
		case restAliased && len(rest) == i:
			rest = buf[:i+n+m]
		default:
			if restAliased {
				rest = append([]byte(nil), rest...)
				restAliased = false
			}
			rest = append(rest, buf[i:i+n+m]...)
		}
		if err := checkShell(entries, len(rest)); err != nil {
			return nil, err
		}
		i += n + m
	}
	out := &commonpb.Payload{}
	if len(rest) > 0 {
		if err := proto.Unmarshal(rest, out); err != nil {
			return nil, err
		}
	}
	if haveData {
		out.Data = data
	}
	return out, nil
}

// pieceReader reads a list of byte slices as one stream without copying them together.
// It is an io.ReaderAt and io.Seeker with a Size, so a store can send parts of it in
// parallel and rewind it for a retry.
type pieceReader struct {
	pieces [][]byte
	size   int64
	off    int64
}

func newPieceReader(pieces [][]byte) *pieceReader {
	r := &pieceReader{pieces: pieces}
	for _, p := range pieces {
		r.size += int64(len(p))
	}
	return r
}

// Size returns the total length.
func (r *pieceReader) Size() int64 { return r.size }

func (r *pieceReader) Read(p []byte) (int, error) {
	n, err := r.ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (r *pieceReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("codec: negative offset")
	}
	n := 0
	for _, piece := range r.pieces {
		if off >= int64(len(piece)) {
			off -= int64(len(piece))
			continue
		}
		c := copy(p[n:], piece[off:])
		n += c
		off = 0
		if n == len(p) {
			return n, nil
		}
	}
	return n, io.EOF
}

func (r *pieceReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("codec: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("codec: negative position")
	}
	r.off = offset
	return offset, nil
}

// WriteTo hands each remaining piece to w in one call, so an io.Copy into a file or a
// socket makes no intermediate copy.
func (r *pieceReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	off := r.off
	for _, piece := range r.pieces {
		if off >= int64(len(piece)) {
			off -= int64(len(piece))
			continue
		}
		n, err := w.Write(piece[off:])
		total += int64(n)
		r.off += int64(n)
		if err != nil {
			return total, err
		}
		off = 0
	}
	return total, nil
}

// truncate shortens s to n bytes for an error message about hostile input.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
