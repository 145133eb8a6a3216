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

// Reference format versions. The version follows the hash: v1 addresses SHA-256, v2
// BLAKE3; the codec writes the one Options.Hash names and reads both, forever.
const (
	refV1 = 1
	refV2 = 2
)

const metadataEncoding = "encoding"

// Reference is the claim check left in history in place of an offloaded payload: readable
// JSON, so the UI and `temporal workflow show` make sense even without a codec server.
type Reference struct {
	// V is the format version: 1 (SHA256 set) or 2 (BLAKE3 set).
	V int `json:"v"`
	// SHA256 is, in v1, the lowercase hex SHA-256 of the stored bytes: the blob's content
	// address. Empty in v2.
	SHA256 string `json:"sha256,omitempty"`
	// BLAKE3 is, in v2, the lowercase hex BLAKE3-256 of the stored bytes. Empty in v1.
	BLAKE3 string `json:"blake3,omitempty"`
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
	if *probe.V != refV1 && *probe.V != refV2 {
		return Reference{}, fmt.Errorf("%w: field \"v\" is %d; this version of longhaul reads v%d and v%d "+
			"(upgrade longhaul to read newer references)", ErrInvalidReference, *probe.V, refV1, refV2)
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
	alg, digest := r.address()
	switch {
	case alg == "":
		return fmt.Errorf("%w: field \"v\" is %d, want %d or %d", ErrInvalidReference, r.V, refV1, refV2)
	case !driver.IsDigestHex(digest):
		return fmt.Errorf("%w: field %q is %q, want 64 lowercase hex digits", ErrInvalidReference, alg, truncate(digest, 80))
	case r.V == refV1 && r.BLAKE3 != "", r.V == refV2 && r.SHA256 != "":
		return fmt.Errorf("%w: a v%d reference has fields \"sha256\" and \"blake3\"; v1 names only the sha256, v2 only the blake3",
			ErrInvalidReference, r.V)
	case r.Size < 0:
		return fmt.Errorf("%w: field \"size\" is negative (%d)", ErrInvalidReference, r.Size)
	case r.RawSize < 0:
		return fmt.Errorf("%w: field \"rawSize\" is negative (%d)", ErrInvalidReference, r.RawSize)
	case r.Compression != Zstd && r.Compression != NoCompression:
		return fmt.Errorf("%w: field \"compression\" is %q, want \"zstd\" or \"none\"", ErrInvalidReference,
			truncate(string(r.Compression), 40))
	case r.Compression == NoCompression && r.Size != r.RawSize:
		return fmt.Errorf("%w: field \"size\" (%d) differs from \"rawSize\" (%d) without compression", ErrInvalidReference,
			r.Size, r.RawSize)
	}
	return nil
}

// address returns the hash the reference's version names and its digest; "" for a
// version there is none of.
func (r Reference) address() (algorithm, digest string) {
	switch r.V {
	case refV1:
		return driver.SHA256, r.SHA256
	case refV2:
		return driver.BLAKE3, r.BLAKE3
	}
	return "", ""
}

// newReference is the reference of a blob addressed with h.
func newReference(h Hash, digest string) Reference {
	if h == SHA256 {
		return Reference{V: refV1, SHA256: digest}
	}
	return Reference{V: refV2, BLAKE3: digest}
}

// Key returns the key of the blob the reference names in namespace's store:
// "v1/{namespace}/sha256/{hex}" or "v2/{namespace}/blake3/{hex}".
func (r Reference) Key(namespace string) (string, error) {
	alg, digest := r.address()
	return driver.Key(namespace, alg, digest)
}

// locator is the reference's Locator: a blob of the codec's Store in namespace ns ("" for
// the namespace it is decoded for).
func (r Reference) locator(ns string) Locator {
	alg, digest := r.address()
	return Locator{
		Kind: KindLonghaul, Namespace: ns, Size: r.Size, Algorithm: alg, Digest: digest,
		RawSize: r.RawSize, Compression: r.Compression, Form: FormPayload,
	}
}
