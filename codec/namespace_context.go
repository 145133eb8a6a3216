package codec

import "go.temporal.io/sdk/converter"

var _ converter.PayloadCodecWithSerializationContext = (*Codec)(nil)

// WithSerializationContext implements converter.PayloadCodecWithSerializationContext: the
// SDK (v1.51+) hands a codec the namespace it encodes and decodes for, and the returned
// codec keys blobs by that namespace. Options.Namespace is the fallback for calls
// without a context.
func (c *Codec) WithSerializationContext(sc converter.SerializationContext) converter.PayloadCodec {
	return c.forContext(sc)
}

// replayNamespace is the placeholder the SDK's WorkflowReplayer puts in contexts (its
// internal.ReplayNamespace): it names no namespace, so the fallback applies and references
// that name theirs are followed.
const replayNamespace = "ReplayNamespace"

// forContext returns the codec for the namespace sc names: c itself when sc names none or
// the same one, else a copy sharing c's store, cache and counters (cheap: the SDK calls
// this for every conversion).
func (c *Codec) forContext(sc converter.SerializationContext) *Codec {
	ns := namespaceOf(sc)
	if ns == replayNamespace {
		return c.following()
	}
	if ns == "" || ns == c.opts.Namespace {
		return c.withSerialization(sc)
	}
	n, err := c.WithNamespace(ns)
	if err != nil {
		// Temporal's own namespace rules are stricter than the key grammar, so this is a
		// namespace no server accepts; keep the fallback rather than fail conversion.
		c.opts.Logger.Warn("longhaul: namespace from the serialization context is not usable in keys; using Options.Namespace",
			"namespace", truncate(ns, 80), "fallback", c.opts.Namespace, "error", err)
		return c.withSerialization(sc)
	}
	return n.withSerialization(sc)
}

// namespaceOf returns the namespace a serialization context names, or "" (Nexus contexts
// and nil name none).
func namespaceOf(sc converter.SerializationContext) string {
	switch v := sc.(type) {
	case converter.WorkflowSerializationContext:
		return v.Namespace
	case converter.ActivitySerializationContext:
		return v.Namespace
	}
	return ""
}

// following returns a copy of c that reads references from the namespace they name, for
// callers that are told none: the replayer, and External Storage's Retrieve.
func (c *Codec) following() *Codec {
	if c.followNS {
		return c
	}
	n := *c
	n.followNS = true
	return &n
}
