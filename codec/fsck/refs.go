package fsck

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// Kinds of reference, as codec.Kind names them ("longhaul", "extstore", "datadog",
// "temporal-s3").
const (
	KindLonghaul = "longhaul" // a json/longhaul-ref payload
	KindClaim    = "extstore" // an External Storage reference with a codec/extstore claim
)

// blobRef is one reference found in history: the bytes it names, parsed by the codec's
// one parser (codec.Codec.Locate), and how the report names them.
type blobRef struct {
	kind string
	// key names the bytes in the report: the blob key in the Store, or the foreign
	// service's bucket and key.
	key string
	// id is what the walk checks once: the same bytes read the same way.
	id  string
	loc codec.Locator
}

// parseRef recognizes a reference payload of any kind the codec reads (its Readers
// included) with the codec's own parser. ok is false for payloads that are not
// references; err is set for references the codec refuses (reported as problems: it
// could not read them either).
func parseRef(c *codec.Codec, p *commonpb.Payload) (blobRef, bool, error) {
	loc, ok, err := c.Locate(p)
	if !ok {
		return blobRef{}, false, nil
	}
	r := blobRef{kind: loc.Kind.String(), key: strings.TrimPrefix(loc.String(), "key "), loc: loc}
	r.id = loc.ID()
	if err != nil {
		r.key = "invalid/" + r.kind + "/" + payloadDigest(p)
		r.id = r.key
	}
	return r, true, err
}

// payloadDigest names a reference that has no blob of its own (it did not parse): the
// SHA-256 of its deterministic serialization, so equal references are one problem.
func payloadDigest(p *commonpb.Payload) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(p)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
