package codec

import (
	"context"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
)

// NewDataConverter returns a DataConverter that converts values with parent (nil means
// converter.GetDefaultDataConverter()) and then offloads with c.
//
// It is converter.ContextAware:
//   - bound to a workflow context, a codec failure panics, so the workflow task fails and
//     Temporal retries it; workflow code never sees a store error, which would otherwise
//     make the workflow take a different path on replay than it did the first time;
//   - bound to a plain context (client calls, activities), it returns the wrapped error
//     and honours the context's cancellation.
//
// It also suspends the workflow deadlock detector during conversion, since storing or
// fetching a large payload may take longer than the detector's one second.
func NewDataConverter(c *Codec, parent converter.DataConverter) converter.DataConverter {
	if parent == nil {
		parent = converter.GetDefaultDataConverter()
	}
	return workflow.DataConverterWithoutDeadlockDetection(&dataConverter{parent: parent, codec: c, ctx: context.Background()})
}

// dataConverter composes a parent DataConverter with the codec.
type dataConverter struct {
	parent   converter.DataConverter
	codec    *Codec
	ctx      context.Context
	workflow bool // bound to a workflow context: failures panic
	// wctx is that workflow context, which the codec's Tracer places spans by.
	wctx workflow.Context
}

var (
	_ converter.DataConverter                         = (*dataConverter)(nil)
	_ converter.ContextAware                          = (*dataConverter)(nil)
	_ converter.DataConverterWithSerializationContext = (*dataConverter)(nil)
)

// fail returns err, or panics with it inside workflow code. There the SDK would hand a
// returned error to the workflow (ending it, or leaving a signal unread); a codec failure
// is usually a store being away, so the workflow task must fail and be retried instead.
// The panic value is the SDK's converter.WorkflowTaskFailureError as its codec boundary
// tags it, which fails the task under either WorkflowPanicPolicy (a plain panic would
// fail the whole workflow under FailWorkflow). Returning that error instead would be
// honoured only on some paths (inputs, results, Future.Get) and not on signal, update
// argument, query and memo decoding, so every workflow path panics alike. Outside
// workflow code (activities, clients, the codec server) it is an ordinary error.
func (d *dataConverter) fail(err error) error {
	if d.workflow {
		panic(taskFailure(err))
	}
	return err
}

// taskFailure returns err as the SDK's codec-tagged WorkflowTaskFailureError. The tag is
// private to the SDK and added only where a PayloadCodec's error crosses its
// CodecDataConverter, so err is sent across one.
func taskFailure(err error) error {
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), failingCodec{err})
	_, tagged := dc.ToPayloads(nil)
	return tagged
}

// failingCodec is a PayloadCodec whose Encode requests a workflow task failure for err.
type failingCodec struct{ err error }

func (f failingCodec) Encode([]*commonpb.Payload) ([]*commonpb.Payload, error) {
	return nil, converter.NewWorkflowTaskFailureError(f.err)
}

func (f failingCodec) Decode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) { return ps, nil }

func (d *dataConverter) encode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out, err := d.codec.EncodeContext(d.codec.withWorkflowScope(d.ctx, d.wctx), ps)
	if err != nil {
		return nil, d.fail(err)
	}
	return out, nil
}

func (d *dataConverter) decode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out, err := d.codec.DecodeContext(d.codec.withWorkflowScope(d.ctx, d.wctx), ps)
	if err != nil {
		return nil, d.fail(err)
	}
	return out, nil
}

func (d *dataConverter) ToPayload(value any) (*commonpb.Payload, error) {
	p, err := d.parent.ToPayload(value)
	if err != nil || p == nil {
		return p, err
	}
	out, err := d.encode([]*commonpb.Payload{p})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

func (d *dataConverter) FromPayload(p *commonpb.Payload, valuePtr any) error {
	if p != nil && d.codec.decodes(p) {
		out, err := d.decode([]*commonpb.Payload{p})
		if err != nil {
			return err
		}
		p = out[0]
	}
	return d.parent.FromPayload(p, valuePtr)
}

func (d *dataConverter) ToPayloads(values ...any) (*commonpb.Payloads, error) {
	ps, err := d.parent.ToPayloads(values...)
	if err != nil || ps == nil {
		return ps, err
	}
	out, err := d.encode(ps.Payloads)
	if err != nil {
		return nil, err
	}
	return &commonpb.Payloads{Payloads: out}, nil
}

func (d *dataConverter) FromPayloads(ps *commonpb.Payloads, valuePtrs ...any) error {
	if ps != nil {
		out, err := d.decode(ps.Payloads)
		if err != nil {
			return err
		}
		ps = &commonpb.Payloads{Payloads: out}
	}
	return d.parent.FromPayloads(ps, valuePtrs...)
}

// ToString and ToStrings are for logs and tools: they never panic and never fail.
func (d *dataConverter) ToString(p *commonpb.Payload) string {
	if d.codec.decodes(p) {
		out, err := d.codec.DecodeContext(d.ctx, []*commonpb.Payload{p})
		if err != nil {
			return fmt.Sprintf("<longhaul reference %s: %v>", p.GetData(), err)
		}
		p = out[0]
	}
	return d.parent.ToString(p)
}

func (d *dataConverter) ToStrings(ps *commonpb.Payloads) []string {
	if ps == nil {
		return nil
	}
	out := make([]string, len(ps.Payloads))
	for i, p := range ps.Payloads {
		out[i] = d.ToString(p)
	}
	return out
}

func (d *dataConverter) WithWorkflowContext(ctx workflow.Context) converter.DataConverter {
	n := *d
	n.workflow = true
	n.ctx = context.Background()
	n.wctx = ctx
	if ca, ok := d.parent.(converter.ContextAware); ok {
		n.parent = ca.WithWorkflowContext(ctx)
	}
	return &n
}

func (d *dataConverter) WithContext(ctx context.Context) converter.DataConverter {
	n := *d
	n.workflow = false
	n.ctx = ctx
	n.wctx = nil
	if ca, ok := d.parent.(converter.ContextAware); ok {
		n.parent = ca.WithContext(ctx)
	}
	return &n
}

func (d *dataConverter) WithSerializationContext(sc converter.SerializationContext) converter.DataConverter {
	n := *d
	n.codec = d.codec.forContext(sc)
	n.parent = converter.WithDataConverterSerializationContext(d.parent, sc)
	return &n
}
