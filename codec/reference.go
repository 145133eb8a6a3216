package codec

import (
	"bytes"
	"encoding/json"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// refEncoding is the metadata "encoding" of a reference payload. A worker without this
// codec fails loudly on it instead of decoding the reference as user data.
const refEncoding = "json/longhaul-ref"

// refVersion is the reference format this package writes. Older versions keep decoding.
const refVersion = 1

const metadataEncoding = "encoding"

// Reference is the claim check left in history in place of an offloaded payload: readable
// JSON, so the UI and `temporal workflow show` make sense even without a codec server.
type Reference struct {
	// V is the format version, 1.
	V int `json:"v"`
	// SHA256 is the lowercase hex digest of the stored bytes: the blob's content address.
	SHA256 string `json:"sha256"`
	// Size is the stored (possibly compressed) length in bytes.
	Size int64 `json:"size"`
	// RawSize is the length of the serialized original commonpb.Payload.
	RawSize int64 `json:"rawSize"`
	// Compression is "zstd" or "none".
	Compression Compression `json:"compression"`
	// Encoding is the original payload's encoding, for people reading history.
	Encoding string `json:"encoding"`
}

// IsReference reports whether p is a longhaul reference payload.
func IsReference(p *commonpb.Payload) bool {
	return p != nil && string(p.GetMetadata()[metadataEncoding]) == refEncoding
}

// Payload returns the reference as a payload to put in history.
func (r Reference) Payload() (*commonpb.Payload, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("marshal reference: %w", err)
	}
	return &commonpb.Payload{
		Metadata: map[string][]byte{metadataEncoding: []byte(refEncoding)},
		Data:     data,
	}, nil
}

// ParseReference reads a reference payload, validating every field; errors wrap
// ErrInvalidReference and name the field.
func ParseReference(p *commonpb.Payload) (Reference, error) {
	if !IsReference(p) {
		return Reference{}, fmt.Errorf("%w: metadata encoding is %q, want %q", ErrInvalidReference,
			truncate(string(p.GetMetadata()[metadataEncoding]), 80), refEncoding)
	}
	var probe struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(p.GetData(), &probe); err != nil {
		return Reference{}, fmt.Errorf("%w: data is not a JSON object: %v", ErrInvalidReference, err)
	}
	if probe.V == nil {
		return Reference{}, fmt.Errorf("%w: field \"v\" is missing", ErrInvalidReference)
	}
	if *probe.V != refVersion {
		return Reference{}, fmt.Errorf("%w: field \"v\" is %d; this version of longhaul reads v%d "+
			"(upgrade longhaul to read newer references)", ErrInvalidReference, *probe.V, refVersion)
	}
	var r Reference
	dec := json.NewDecoder(bytes.NewReader(p.GetData()))
	if err := dec.Decode(&r); err != nil {
		return Reference{}, fmt.Errorf("%w: %v", ErrInvalidReference, err)
	}
	if err := r.validate(); err != nil {
		return Reference{}, err
	}
	return r, nil
}

// validate checks every field of a reference, whichever form carried it (a reference
// payload, an extstore claim); errors wrap ErrInvalidReference and name the field.
func (r Reference) validate() error {
	switch {
	case !driver.IsDigestHex(r.SHA256):
		return fmt.Errorf("%w: field \"sha256\" is %q, want 64 lowercase hex digits", ErrInvalidReference, truncate(r.SHA256, 80))
	case r.Size < 0:
		return fmt.Errorf("%w: field \"size\" is negative (%d)", ErrInvalidReference, r.Size)
	case r.RawSize < 0:
		return fmt.Errorf("%w: field \"rawSize\" is negative (%d)", ErrInvalidReference, r.RawSize)
	case r.Compression != Zstd && r.Compression != NoCompression:
		return fmt.Errorf("%w: field \"compression\" is %q, want \"zstd\" or \"none\"", ErrInvalidReference, truncate(string(r.Compression), 40))
	case r.Compression == NoCompression && r.Size != r.RawSize:
		return fmt.Errorf("%w: field \"size\" (%d) differs from \"rawSize\" (%d) without compression", ErrInvalidReference, r.Size, r.RawSize)
	}
	return nil
}

// locator is the reference's Locator: a blob of the codec's Store in namespace ns ("" for
// the namespace it is decoded for).
func (r Reference) locator(ns string) Locator {
	return Locator{
		Kind: KindLonghaul, Namespace: ns, Size: r.Size, Algorithm: "sha256", Digest: r.SHA256,
		RawSize: r.RawSize, Compression: r.Compression, Form: FormPayload,
	}
}
