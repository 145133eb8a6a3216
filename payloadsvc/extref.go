package payloadsvc

import (
	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// blobReference returns the longhaul blob a payload in a decode request stands for: a
// longhaul reference, or an External Storage reference written by codec/extstore (same
// blobs, same keys), so both get previews and download links. Other payloads, including
// other offloaders' references, have none.
func blobReference(p *commonpb.Payload) (codec.Reference, bool) {
	if codec.IsReference(p) {
		ref, err := codec.ParseReference(p)
		return ref, err == nil
	}
	if !codec.IsStorageReference(p) {
		return codec.Reference{}, false
	}
	sr, err := codec.ParseStorageReference(p)
	if err != nil || !codec.IsClaim(sr.ClaimData) {
		return codec.Reference{}, false
	}
	_, ref, err := codec.ParseClaim(sr.ClaimData)
	return ref, err == nil
}
