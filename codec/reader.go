package codec

import (
	"context"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
)

// A Reader resolves reference payloads that another offloader wrote (the DataDog
// large-payload codec, Temporal's External Storage drivers), so a team that switches to
// longhaul keeps decoding the payloads already in its histories. Configure Readers in
// Options.Readers; the codec tries them, in order, for payloads that are not longhaul
// references, in workers (also during replay) and in the codec server.
//
// A Reader treats everything it reads as hostile: it bounds what it reads by a configured
// maximum and verifies the digest the reference names before returning anything;
// mismatches are ErrCorrupt.
type Reader interface {
	// Recognize reports whether p is a reference this Reader resolves. It must be cheap:
	// it runs for every payload decoded.
	Recognize(p *commonpb.Payload) bool
	// Read returns the payload p stands for. namespace is the one the codec decodes for.
	Read(ctx context.Context, namespace string, p *commonpb.Payload) (*commonpb.Payload, error)
}

// decodes reports whether Decode must replace p: a longhaul reference, an External
// Storage reference written by codec/extstore, or one a Reader recognizes.
func (c *Codec) decodes(p *commonpb.Payload) bool {
	return IsReference(p) || isOwnStorageRef(p) || c.readerFor(p) != nil
}

func (c *Codec) readerFor(p *commonpb.Payload) Reader {
	for _, r := range c.opts.Readers {
		if r.Recognize(p) {
			return r
		}
	}
	return nil
}

// resolveForeign resolves p with the first Reader that recognizes it; other payloads
// pass through.
func (c *Codec) resolveForeign(ctx context.Context, p *commonpb.Payload) (*commonpb.Payload, error) {
	if isOwnStorageRef(p) {
		return c.resolveOwnStorageRef(ctx, p)
	}
	r := c.readerFor(p)
	if r == nil {
		return p, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	out, err := r.Read(ctx, c.opts.Namespace, p)
	if err != nil {
		c.ctr.add(&c.ctr.storeErrors, 1)
		return nil, fmt.Errorf("codec decode: namespace %s: %T: %w", c.opts.Namespace, r, err)
	}
	c.ctr.add(&c.ctr.payloadsDecoded, 1)
	return out, nil
}
