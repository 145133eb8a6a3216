package codec

import (
	"context"
	"io"
)

// A Reader reads references that another offloader wrote (codec/foreign: the DataDog
// large-payload codec, Temporal's S3 External Storage driver), so a team that switches to longhaul
// keeps decoding the payloads already in its histories. Configure Readers in
// Options.Readers; the codec offers them, in order, the payloads that are not its own
// references, in workers (also during replay) and in the codec server.
//
// A Reader is a parser and a source, nothing more: it turns its kind of reference into a
// Locator and opens the bytes a Locator names. The codec does the rest for every kind
// alike: namespace containment, limits, bounded reads, verification of the digest,
// decompression, the metadata caps, the cache, previews and download links.
type Reader interface {
	// Parse reports whether c is a reference of this Reader's kind (ok) and returns its
	// Locator. It must be cheap for payloads of other kinds: it runs for every payload
	// decoded. Errors wrap ErrInvalidReference; a key outside the namespace it names, a
	// claimed size over the Reader's maximum, and a bucket or service not configured are
	// errors.
	Parse(c Candidate) (loc Locator, ok bool, err error)
	// Open returns the stored bytes of a Locator Parse returned, after the codec admitted
	// it (loc.Namespace is then set, loc.Max bounds the read). The reader should be a
	// Sizer when the source tells the length. Open retries transient failures until a
	// body starts, as a Store's Get does; a body that ends early is io.ErrUnexpectedEOF
	// or wraps ErrCorrupt, a refusal by the source that asking again cannot change wraps
	// ErrRefused, a missing object ErrNotFound.
	Open(ctx context.Context, loc Locator) (io.ReadCloser, error)
}
