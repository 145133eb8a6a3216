package codec

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	commonpb "go.temporal.io/api/common/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// The SDK's External Storage (converter.ExternalStorage) leaves a reference payload in
// history: protojson of temporal.api.sdk.v1.ExternalStorageReference (driver name + claim
// data), encoding "json/protobuf". Prerelease SDKs wrote encoding
// "json/external-storage-reference" with {"driver_name","driver_claim":{"claim_data"}}.
const (
	storageRefEncoding       = "json/protobuf"
	storageRefLegacyEncoding = "json/external-storage-reference"
	metadataMessageType      = "messageType"
	// maxStorageRefBytes bounds a reference's JSON: real ones are a few hundred bytes.
	maxStorageRefBytes = 64 << 10
)

var storageRefMessageType = string((&sdkpb.ExternalStorageReference{}).ProtoReflect().Descriptor().FullName())

// StorageReference is an External Storage reference payload, parsed.
type StorageReference struct {
	DriverName string
	ClaimData  map[string]string
}

// IsStorageReference reports whether p is an External Storage reference payload.
func IsStorageReference(p *commonpb.Payload) bool {
	switch string(p.GetMetadata()[metadataEncoding]) {
	case storageRefEncoding:
		return string(p.GetMetadata()[metadataMessageType]) == storageRefMessageType
	case storageRefLegacyEncoding:
		return true
	}
	return false
}

// ParseStorageReference reads an External Storage reference payload (current or legacy
// format); errors wrap ErrInvalidReference.
func ParseStorageReference(p *commonpb.Payload) (StorageReference, error) {
	if !IsStorageReference(p) {
		return StorageReference{}, fmt.Errorf("%w: not an External Storage reference (encoding %q)", ErrInvalidReference,
			truncate(string(p.GetMetadata()[metadataEncoding]), 80))
	}
	if len(p.GetData()) > maxStorageRefBytes {
		return StorageReference{}, fmt.Errorf("%w: External Storage reference is %d bytes, over %d", ErrInvalidReference, len(p.GetData()),
			maxStorageRefBytes)
	}
	if string(p.GetMetadata()[metadataEncoding]) == storageRefLegacyEncoding {
		var legacy struct {
			DriverName  string `json:"driver_name"`
			DriverClaim struct {
				ClaimData map[string]string `json:"claim_data"`
			} `json:"driver_claim"`
		}
		if err := json.Unmarshal(p.GetData(), &legacy); err != nil {
			return StorageReference{}, fmt.Errorf("%w: External Storage reference: %v", ErrInvalidReference, err)
		}
		return StorageReference{DriverName: legacy.DriverName, ClaimData: legacy.DriverClaim.ClaimData}, nil
	}
	var ref sdkpb.ExternalStorageReference
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(p.GetData(), &ref); err != nil {
		return StorageReference{}, fmt.Errorf("%w: External Storage reference: %v", ErrInvalidReference, err)
	}
	return StorageReference{DriverName: ref.GetDriverName(), ClaimData: ref.GetClaimData()}, nil
}

// Claim data keys of codec/extstore's claims. The claim names the namespace because the
// SDK retrieves without one; the blob is the same one the codec writes for the same
// payload (its key, see Reference.Key), so codec and driver share data. Version 1 names
// a SHA-256 ("sha256"); version 2 names its hash ("hash") beside the digest ("digest").
const (
	claimKeyFormat      = "longhaul"    // format version, "1" or "2"; marks the claim as ours
	claimKeyNamespace   = "namespace"   // the blob key's namespace
	claimKeySHA256      = "sha256"      // v1: hex SHA-256 of the stored bytes
	claimKeyHash        = "hash"        // v2: the hash of the address, "blake3" or "sha256"
	claimKeyDigest      = "digest"      // v2: hex digest of the stored bytes
	claimKeySize        = "size"        // stored bytes, decimal
	claimKeyRawSize     = "rawSize"     // serialized payload bytes, decimal
	claimKeyCompression = "compression" // "zstd" or "none"
	claimKeyEncoding    = "encoding"    // original payload's encoding, informational
	claimV1, claimV2    = "1", "2"
)

// Claim returns the External Storage claim data for a blob of namespace: version 1 for a
// v1 reference (readers older than v2 keep reading what a SHA256 codec writes), else
// version 2.
func (r Reference) Claim(namespace string) map[string]string {
	claim := map[string]string{
		claimKeyNamespace:   namespace,
		claimKeySize:        strconv.FormatInt(r.Size, 10),
		claimKeyRawSize:     strconv.FormatInt(r.RawSize, 10),
		claimKeyCompression: string(r.Compression),
		claimKeyEncoding:    r.Encoding,
	}
	alg, digest := r.address()
	if r.V == refV1 {
		claim[claimKeyFormat], claim[claimKeySHA256] = claimV1, digest
	} else {
		claim[claimKeyFormat], claim[claimKeyHash], claim[claimKeyDigest] = claimV2, alg, digest
	}
	return claim
}

// isClaim reports whether claim data was written by codec/extstore.
func isClaim(claim map[string]string) bool { return claim[claimKeyFormat] != "" }

// parseClaim reads claim data written by codec/extstore, validating every field like
// ParseReference; errors wrap ErrInvalidReference and name the field.
func parseClaim(claim map[string]string) (namespace string, ref Reference, err error) {
	switch v := claim[claimKeyFormat]; v {
	case claimV1:
		ref = Reference{V: refV1, SHA256: claim[claimKeySHA256]}
	case claimV2:
		h := Hash(claim[claimKeyHash])
		if h.check() != nil {
			return "", Reference{}, fmt.Errorf("%w: claim field %q is %q, want %q or %q", ErrInvalidReference, claimKeyHash,
				truncate(string(h), 20), BLAKE3, SHA256)
		}
		ref = newReference(h, claim[claimKeyDigest])
	default:
		return "", Reference{}, fmt.Errorf("%w: claim field %q is %q; this version of longhaul reads %q and %q", ErrInvalidReference,
			claimKeyFormat, truncate(v, 20), claimV1, claimV2)
	}
	namespace = claim[claimKeyNamespace]
	if err := driver.ValidateNamespace(namespace); err != nil {
		return "", Reference{}, fmt.Errorf("%w: claim field %q: %v", ErrInvalidReference, claimKeyNamespace, err)
	}
	ref.Compression, ref.Encoding = Compression(claim[claimKeyCompression]), claim[claimKeyEncoding]
	for _, f := range []struct {
		key string
		dst *int64
	}{{claimKeySize, &ref.Size}, {claimKeyRawSize, &ref.RawSize}} {
		if *f.dst, err = strconv.ParseInt(claim[f.key], 10, 64); err != nil {
			return "", Reference{}, fmt.Errorf("%w: claim field %q is %q, want a decimal size", ErrInvalidReference, f.key,
				truncate(claim[f.key], 40))
		}
	}
	if err := ref.validate(); err != nil { // one validation for both forms
		return "", Reference{}, fmt.Errorf("claim: %w", err)
	}
	return namespace, ref, nil
}

// Payload returns the reference payload the SDK writes to history for r (tests and
// migration tools build references with it).
func (r StorageReference) Payload() (*commonpb.Payload, error) {
	data, err := protojson.Marshal(&sdkpb.ExternalStorageReference{DriverName: r.DriverName, ClaimData: r.ClaimData})
	if err != nil {
		return nil, fmt.Errorf("marshal External Storage reference: %w", err)
	}
	return &commonpb.Payload{Metadata: map[string][]byte{
		metadataEncoding:    []byte(storageRefEncoding),
		metadataMessageType: []byte(storageRefMessageType),
	}, Data: data}, nil
}

// ResolveStorage returns the payload an External Storage claim stands for, whichever
// driver wrote it (codec/extstore's claims, or a Reader's kind such as Temporal's S3
// driver), through the same parsers and read path as Resolve. It is what a
// converter.StorageDriver's Retrieve calls: the SDK tells Retrieve no namespace, so a
// claim is read from the namespace it names (its key stays inside it).
func (c *Codec) ResolveStorage(ctx context.Context, sr StorageReference) (*commonpb.Payload, error) {
	c = c.following()
	loc, ok, err := c.parseCandidate(Candidate{Storage: &sr})
	if !ok {
		return nil, fmt.Errorf("codec decode: %w: claim of driver %q is of no kind this codec reads", ErrInvalidReference,
			truncate(sr.DriverName, 80))
	}
	if err == nil {
		err = c.admitLocator(&loc)
	}
	if err != nil {
		return nil, fmt.Errorf("codec decode: %w", err)
	}
	return c.resolve(ctx, loc)
}
