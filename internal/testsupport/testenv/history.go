package testenv

import (
	"context"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// HistoryPayload is one payload found in a workflow's history, with the event holding it.
type HistoryPayload struct {
	Event   *historypb.HistoryEvent
	Payload *commonpb.Payload
}

// HistoryPayloads returns every payload anywhere in the history of the workflow's latest
// run (inputs, results, headers, memos, markers, failures' details...), so tests can check
// what Temporal actually stored.
func HistoryPayloads(ctx context.Context, c client.Client, workflowID, runID string) ([]HistoryPayload, error) {
	var out []HistoryPayload
	iter := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			return nil, fmt.Errorf("testenv: history of %s: %w", workflowID, err)
		}
		WalkPayloads(ev, func(p *commonpb.Payload) { out = append(out, HistoryPayload{Event: ev, Payload: p}) })
	}
	return out, nil
}

var payloadName = (&commonpb.Payload{}).ProtoReflect().Descriptor().FullName()

// WalkPayloads calls fn for every commonpb.Payload nested anywhere in msg.
func WalkPayloads(msg interface{ ProtoReflect() protoreflect.Message }, fn func(*commonpb.Payload)) {
	walk(msg.ProtoReflect(), fn)
}

func walk(m protoreflect.Message, fn func(*commonpb.Payload)) {
	if m.Descriptor().FullName() == payloadName {
		fn(m.Interface().(*commonpb.Payload))
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap() && fd.MapValue().Kind() == protoreflect.MessageKind:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				walk(mv.Message(), fn)
				return true
			})
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			for i := 0; i < v.List().Len(); i++ {
				walk(v.List().Get(i).Message(), fn)
			}
		case !fd.IsList() && !fd.IsMap() && fd.Kind() == protoreflect.MessageKind:
			walk(v.Message(), fn)
		}
		return true
	})
}
