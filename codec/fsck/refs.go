package fsck

import (
	"crypto/sha256"
	"encoding/hex"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// Kinds of reference.
const (
	KindLonghaul = "longhaul" // a json/longhaul-ref payload
	KindClaim    = "extstore" // an External Storage reference with a codec/extstore claim
	KindForeign  = "foreign"  // a reference one of Options.Readers recognizes
)

// blobRef is one reference found in history: the blob it names and how to check it.
type blobRef struct {
	kind string
	// key is the blob key for longhaul and extstore references; for foreign ones, a
	// digest of the reference payload (one check per distinct reference).
	key string
	ref codec.Reference
	// foreign is the reader and payload of a foreign reference, read for namespace.
	foreign   codec.Reader
	payload   *commonpb.Payload
	namespace string
}

// parseRef recognizes a reference payload with the codec's own parsers. ok is false
// for payloads that are not references; err is set for references that do not parse
// (reported as problems: the codec could not read them either).
func parseRef(namespace string, p *commonpb.Payload, readers []codec.Reader) (blobRef, bool, error) {
	switch {
	case codec.IsReference(p):
		ref, err := codec.ParseReference(p)
		if err != nil {
			return blobRef{kind: KindLonghaul, key: payloadDigest(p)}, true, err
		}
		key, err := codec.BlobKey(namespace, ref.SHA256)
		return blobRef{kind: KindLonghaul, key: key, ref: ref}, true, err
	case codec.IsStorageReference(p):
		sr, err := codec.ParseStorageReference(p)
		if err == nil && codec.IsClaim(sr.ClaimData) {
			ns, ref, err := codec.ParseClaim(sr.ClaimData)
			if err != nil {
				return blobRef{kind: KindClaim, key: payloadDigest(p)}, true, err
			}
			key, err := codec.BlobKey(ns, ref.SHA256)
			return blobRef{kind: KindClaim, key: key, ref: ref}, true, err
		}
	}
	for _, r := range readers {
		if r.Recognize(p) {
			return blobRef{kind: KindForeign, key: "foreign/" + payloadDigest(p), foreign: r, payload: p, namespace: namespace}, true, nil
		}
	}
	return blobRef{}, false, nil
}

// payloadDigest names a reference that has no blob key of its own.
func payloadDigest(p *commonpb.Payload) string {
	h := sha256.New()
	for k, v := range p.GetMetadata() {
		h.Write([]byte(k))
		h.Write(v)
	}
	h.Write(p.GetData())
	return hex.EncodeToString(h.Sum(nil))[:32]
}
