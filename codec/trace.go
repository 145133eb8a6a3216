package codec

import (
	"context"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
)

// Tracer observes a Codec's store operations (Options.Tracer), so a tracing system can
// show the time a workflow or activity spends moving its payloads. The codec calls
// StartOp as an operation begins and EndOp once when it ends, with the same op and the
// context StartOp returned; the store runs with that context, so spans of a traced
// store client nest under the operation's. The codec does not import a tracer:
// interceptor.Interceptor.CodecTracer is the Datadog one. Cache hits touch no store and
// are not operations.
type Tracer interface {
	StartOp(ctx context.Context, op *Op) context.Context
	EndOp(ctx context.Context, op *Op)
}

// OpKind names a store operation.
type OpKind string

// Store operations a Tracer sees.
const (
	// OpOffload is an offload: serialize, compress, hash and Store.Put.
	OpOffload OpKind = "offload"
	// OpFetch is a fetch on a cache miss: Store.Get, read, verify, decompress.
	OpFetch OpKind = "fetch"
)

// Op describes one store operation. StartOp sees Kind, Namespace, Store, Scope and, for
// a fetch, Algorithm and Digest; the rest is filled in by EndOp.
type Op struct {
	Kind      OpKind
	Namespace string
	// Store names the store (its String method, else its type).
	Store string
	// Algorithm ("blake3" or "sha256") and Digest (hex) are the blob's address.
	Algorithm, Digest string
	// Bytes is the serialized payload's size; StoredBytes the blob's (after compression).
	Bytes, StoredBytes int64
	// Compression is Zstd or NoCompression.
	Compression Compression
	// DedupeHit is whether an offload found its blob already stored.
	DedupeHit bool
	// StoreLatency is the time spent in the store: Store.Put for an offload, Store.Get
	// until the store answered (time to first byte) for a fetch.
	StoreLatency time.Duration
	// Err is the operation's error, nil on success.
	Err error
	// Scope is what the SDK said the conversion was for.
	Scope Scope

	tracer Tracer
	ctx    context.Context // what StartOp returned
}

// Scope is what the SDK told the data converter or codec about a conversion: the
// workflow context a DataConverter is bound to, and the serialization context (SDK
// v1.51+). An activity's context is the context the Tracer is called with.
type Scope struct {
	// Workflow is the workflow context the DataConverter was bound to with
	// WithWorkflowContext, nil outside workflow code.
	Workflow workflow.Context
	// Serialization is the SDK's serialization context (workflow id, activity type),
	// nil when the SDK gave none.
	Serialization converter.SerializationContext
}

// workflowScopeKey carries the workflow context of a DataConverter to the store
// operations it causes.
type workflowScopeKey struct{}

// withWorkflowScope returns ctx carrying wctx for the Tracer, or ctx when there is no
// Tracer or no workflow context (so nothing is allocated when tracing is off).
func (c *Codec) withWorkflowScope(ctx context.Context, wctx workflow.Context) context.Context {
	if c.opts.Tracer == nil || wctx == nil {
		return ctx
	}
	return context.WithValue(ctx, workflowScopeKey{}, wctx)
}

// traceStart begins a traced operation; with no Tracer it returns ctx and a nil op,
// whose methods do nothing (the cost of tracing when it is off is this nil check).
func (c *Codec) traceStart(ctx context.Context, kind OpKind, alg, digest string) (context.Context, *Op) {
	if c.opts.Tracer == nil {
		return ctx, nil
	}
	op := &Op{Kind: kind, Namespace: c.opts.Namespace, Store: c.name, Algorithm: alg, Digest: digest, Scope: Scope{Serialization: c.sc},
		tracer: c.opts.Tracer}
	op.Scope.Workflow, _ = ctx.Value(workflowScopeKey{}).(workflow.Context)
	op.ctx = op.tracer.StartOp(ctx, op)
	return op.ctx, op
}

// end reports the operation's outcome to the Tracer.
func (op *Op) end(err error) {
	if op == nil {
		return
	}
	op.Err = err
	op.tracer.EndOp(op.ctx, op)
}

// clock returns the time now when op is traced, else the zero time (no clock read).
func (op *Op) clock() time.Time {
	if op == nil {
		return time.Time{}
	}
	return time.Now()
}

// stored records the blob an operation stored or read, and the time the store took
// from since.
func (op *Op) stored(alg, digest string, raw, stored int64, compression Compression, since time.Time) {
	if op == nil {
		return
	}
	op.Algorithm, op.Digest, op.Bytes, op.StoredBytes, op.Compression = alg, digest, raw, stored, compression
	op.StoreLatency = time.Since(since)
}

// withSerialization returns c carrying sc for its Tracer (a copy), or c itself when
// there is no Tracer or no context.
func (c *Codec) withSerialization(sc converter.SerializationContext) *Codec {
	if c.opts.Tracer == nil || sc == nil {
		return c
	}
	n := *c
	n.sc = sc
	return &n
}

// dedupe records that an offload found its blob stored already.
func (op *Op) dedupe() {
	if op != nil {
		op.DedupeHit = true
	}
}
