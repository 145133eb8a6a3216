package codec

import (
	"fmt"
	"net/url"
	"strings"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// Kind names the offloader that wrote a reference.
type Kind uint8

// The kinds of reference the codec reads. Download links (payloadsvc) carry one of these.
const (
	KindLonghaul   Kind = iota + 1 // a json/longhaul-ref payload
	KindClaim                      // an External Storage claim written by codec/extstore
	KindDataDog                    // a DataDog large-payload codec reference (v1, v2)
	KindTemporalS3                 // a claim of Temporal's own S3 External Storage driver
)

// String names the kind in errors, logs and fsck reports.
func (k Kind) String() string {
	switch k {
	case KindLonghaul:
		return "longhaul"
	case KindClaim:
		return "extstore"
	case KindDataDog:
		return "datadog"
	case KindTemporalS3:
		return "temporal-s3"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Form says what a reference's stored bytes hold once verified and decompressed.
type Form uint8

const (
	// FormPayload: the deterministic serialization of the whole commonpb.Payload.
	FormPayload Form = iota
	// FormData: the payload's Data alone; its metadata is in the reference
	// (Locator.Metadata).
	FormData
)

// Locator is the one form every reference is parsed into, whatever wrote it: where the
// bytes are, what they must hash to and how large they may be. Everything after parsing
// (namespace containment, admission, bounded reads, verification, the cache, previews and
// download links) works on a Locator, so each rule lives once.
//
// A Locator comes from a parser and is a claim of the history, not a fact: sizes bound what
// is read, never what is allocated.
type Locator struct {
	Kind Kind
	// Namespace is the namespace the reference puts its bytes in; "" when it names none
	// (a longhaul reference lives in the namespace it is decoded for; DataDog v1 and
	// un-targeted Temporal S3 keys name none).
	Namespace string
	// Reader is the Reader that parsed a foreign reference and opens its bytes; nil for
	// longhaul references and claims, which the codec's Store holds.
	Reader Reader
	// Bucket and Key locate the bytes in the Reader's service; "" for the codec's Store,
	// whose key follows from the namespace and digest (BlobKey).
	Bucket, Key string
	// Size is the stored length the reference claims, or -1 when it claims none; never
	// over Max.
	Size int64
	// Max bounds the stored bytes read: min(the claim, the reader's and the codec's
	// maximum) once the codec has admitted the locator.
	Max int64
	// Algorithm and Digest are the content address of the stored bytes: driver.SHA256 or
	// driver.BLAKE3 and its lowercase hex.
	Algorithm, Digest string
	// RawSize is the decompressed length (Compression "zstd"), else equal to Size.
	RawSize int64
	// Compression is Zstd or NoCompression.
	Compression Compression
	// Form says what the verified bytes hold; with FormData, Metadata is the payload's.
	Form     Form
	Metadata map[string][]byte
}

// Bound is the most bytes resolving the locator may hold: the stored bytes and, when
// they are compressed, the decompressed ones.
func (l Locator) Bound() int64 {
	if l.Compression == Zstd {
		return satAdd(l.Max, l.RawSize)
	}
	return l.Max
}

// String names what the Locator reads: the blob key in the codec's Store, or the foreign
// service's bucket and key (or digest).
func (l Locator) String() string {
	switch {
	case l.Reader == nil:
		key, err := driver.Key(l.Namespace, l.Algorithm, l.Digest)
		if err != nil {
			return "key ?/" + l.Namespace + "/" + l.Algorithm + "/" + l.Digest
		}
		return "key " + key
	case l.Bucket != "":
		return l.Kind.String() + " bucket " + l.Bucket + " key " + l.Key
	case l.Key != "":
		return l.Kind.String() + " key " + l.Key
	}
	return l.Kind.String() + " digest " + l.Algorithm + ":" + l.Digest
}

// ID names the bytes a Locator reads and how they are read, so that a caller checking many
// references (fsck) checks each once.
func (l Locator) ID() string { return l.cacheKey() }

// cacheKey names the decoded result: the namespace, the source, how the bytes are
// compressed and their address (a longhaul reference and an extstore claim of one blob
// share an entry; a foreign service's bytes never pass for the Store's).
func (l Locator) cacheKey() string {
	src := "store"
	if l.Reader != nil {
		src = l.Kind.String()
	}
	return l.Namespace + "/" + src + "/" + string(l.Compression) + "/" + l.Algorithm + ":" + l.Digest
}

func satAdd(a, b int64) int64 {
	if s := a + b; s >= a {
		return s
	}
	return 1<<63 - 1
}

// Candidate is a payload offered to the parsers, with what every parser would otherwise
// parse again decoded once: its External Storage reference, when it is one.
type Candidate struct {
	Payload *commonpb.Payload
	// Storage is the parsed External Storage reference, nil when the payload is none.
	Storage *StorageReference
}

// Locate parses p into its Locator with the codec's parsers and Readers. ok is false for a
// payload that is no reference the codec reads (it passes through); err wraps
// ErrInvalidReference for a reference that is malformed, claims more than the maxima, or
// names a key outside the namespace the codec serves.
func (c *Codec) Locate(p *commonpb.Payload) (loc Locator, ok bool, err error) {
	loc, ok, err = c.parse(p)
	if !ok || err != nil {
		return loc, ok, err
	}
	return loc, true, c.admitLocator(&loc)
}

// decodes reports whether Decode replaces p: a reference of a kind the codec reads.
func (c *Codec) decodes(p *commonpb.Payload) bool {
	_, ok, _ := c.parse(p)
	return ok
}

// parse runs the one parser of p's kind.
func (c *Codec) parse(p *commonpb.Payload) (Locator, bool, error) {
	if IsReference(p) {
		ref, err := ParseReference(p)
		if err != nil {
			return Locator{Kind: KindLonghaul}, true, err
		}
		return ref.locator(""), true, nil
	}
	cand := Candidate{Payload: p}
	if IsStorageReference(p) {
		sr, err := ParseStorageReference(p)
		if err != nil {
			return Locator{}, false, nil // not ours to judge: passes through, as before
		}
		cand.Storage = &sr
	}
	return c.parseCandidate(cand)
}

// parseCandidate runs the parser of an extstore claim or the first Reader that knows c.
func (c *Codec) parseCandidate(cand Candidate) (Locator, bool, error) {
	if sr := cand.Storage; sr != nil && isClaim(sr.ClaimData) {
		ns, ref, err := parseClaim(sr.ClaimData)
		if err != nil {
			return Locator{Kind: KindClaim}, true, err
		}
		loc := ref.locator(ns)
		loc.Kind = KindClaim
		return loc, true, nil
	}
	for _, r := range c.opts.Readers {
		if loc, ok, err := r.Parse(cand); ok {
			loc.Reader = r
			return loc, true, err
		}
	}
	return Locator{}, false, nil
}

// admitLocator applies the rules every kind shares after parsing: a namespace that is the
// one served, a key inside it, and sizes within the maxima.
func (c *Codec) admitLocator(loc *Locator) error {
	switch {
	case loc.Namespace == "":
		loc.Namespace = c.opts.Namespace
	case loc.Namespace != c.opts.Namespace && !c.followNS:
		// A codec reads no other namespace's blobs (a codec server is authorized for one);
		// only a replayer, told no namespace, follows the reference.
		return fmt.Errorf("%w: %s reference is for namespace %q, decoding for %q", ErrInvalidReference,
			loc.Kind, truncate(loc.Namespace, 80), c.opts.Namespace)
	}
	if loc.Algorithm != driver.SHA256 && loc.Algorithm != driver.BLAKE3 || !driver.IsDigestHex(loc.Digest) {
		return fmt.Errorf("%w: %s reference: address %q:%q is not a sha256 or blake3 digest", ErrInvalidReference, loc.Kind,
			truncate(loc.Algorithm, 20), truncate(loc.Digest, 80))
	}
	limit := c.opts.MaxSize
	if loc.Max > 0 {
		limit = min(limit, loc.Max)
	}
	if loc.Size > limit || loc.RawSize > c.opts.MaxSize {
		return fmt.Errorf("%w: %s %s: size %d / rawSize %d over the %d-byte maximum (Options.MaxSize or the reader's)",
			ErrInvalidReference, loc.Algorithm, loc.Digest, loc.Size, loc.RawSize, limit)
	}
	if loc.Size >= 0 {
		limit = loc.Size
	}
	loc.Max = limit
	if loc.Compression != Zstd {
		loc.RawSize = limit
	}
	return nil
}

// ContainedKey checks a key that a foreign reference names and returns its namespace
// segment, percent-decoded. Segments are '/'-separated (a leading '/' is allowed); none
// may be empty, "." or "..", or hold a backslash, and none may decode (once or twice) to
// a path with a "." or ".." element: a server that decodes and cleans keys must not be
// led out of the namespace. Other encoded characters stay allowed (Temporal's S3 driver
// encodes a '/' of a workflow type as %2F). The segment at nsIndex (-1: none) is the
// namespace: it must decode to a name without separators, and to ns when ns is set.
// Errors wrap ErrInvalidReference and name the problem.
func ContainedKey(key string, nsIndex int, ns string) (string, error) {
	bad := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("%w: key %q: %s", ErrInvalidReference, truncate(key, 120), fmt.Sprintf(format, args...))
	}
	if key == "" || len(key) > 1024 {
		return bad("length %d, want 1..1024", len(key))
	}
	segs := strings.Split(strings.TrimPrefix(key, "/"), "/")
	if nsIndex >= len(segs) {
		return bad("no namespace segment")
	}
	found := ""
	for i, seg := range segs {
		dec, err := url.PathUnescape(seg)
		switch {
		case seg == "" || seg == "." || seg == "..":
			return bad("segment %d is empty, '.' or '..'", i)
		case strings.ContainsRune(seg, '\\'):
			return bad("segment %d holds a backslash", i)
		case err != nil:
			return bad("segment %d is not valid percent-encoding", i)
		case climbs(dec) || climbs(mustUnescape(dec)):
			return bad("segment %d encodes a '.' or '..' path element", i)
		case i == nsIndex && strings.ContainsAny(dec, "/\\%"):
			return bad("namespace segment encodes a separator")
		}
		if i == nsIndex {
			found = dec
		}
	}
	if nsIndex >= 0 && ns != "" && found != ns {
		return bad("names namespace %q, decoding for %q", truncate(found, 80), ns)
	}
	return found, nil
}

// climbs reports whether a decoded segment, read as a path, has a "." or ".." element.
func climbs(s string) bool {
	for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '\\' }) {
		if e == "." || e == ".." {
			return true
		}
	}
	return s == "." || s == ".."
}

func mustUnescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
