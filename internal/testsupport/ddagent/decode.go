package ddagent

import (
	"fmt"
	"io"

	"github.com/tinylib/msgp/msgp"
)

// Span is one span as the tracer sent it on the wire (v0.4 msgpack).
type Span struct {
	Name     string
	Service  string
	Resource string
	Type     string
	// Start and Duration are nanoseconds (Start since the Unix epoch).
	Start    int64
	Duration int64
	Meta     map[string]string
	Metrics  map[string]float64
	SpanID   uint64
	TraceID  uint64
	ParentID uint64
	Error    int32
	Links    []Link
}

// Link is a span link (the "span_links" field).
type Link struct {
	TraceID     uint64
	TraceIDHigh uint64
	SpanID      uint64
	Attributes  map[string]string
}

// decodeTraces reads a v0.4 payload: an array of traces, each an array of spans, each a map.
func decodeTraces(r io.Reader) ([][]Span, error) {
	mr := msgp.NewReader(r)
	n, err := mr.ReadArrayHeader()
	if err != nil {
		return nil, fmt.Errorf("ddagent: payload header: %w", err)
	}
	traces := make([][]Span, 0, n)
	for i := uint32(0); i < n; i++ {
		m, err := mr.ReadArrayHeader()
		if err != nil {
			return nil, fmt.Errorf("ddagent: trace %d: %w", i, err)
		}
		trace := make([]Span, 0, m)
		for j := uint32(0); j < m; j++ {
			s, err := decodeSpan(mr)
			if err != nil {
				return nil, fmt.Errorf("ddagent: trace %d span %d: %w", i, j, err)
			}
			trace = append(trace, s)
		}
		traces = append(traces, trace)
	}
	return traces, nil
}

func decodeSpan(mr *msgp.Reader) (Span, error) {
	var s Span
	n, err := mr.ReadMapHeader()
	if err != nil {
		return s, err
	}
	for i := uint32(0); i < n; i++ {
		key, err := mr.ReadString()
		if err != nil {
			return s, err
		}
		if mr.IsNil() {
			if err := mr.ReadNil(); err != nil {
				return s, err
			}
			continue
		}
		switch key {
		case "name":
			s.Name, err = mr.ReadString()
		case "service":
			s.Service, err = mr.ReadString()
		case "resource":
			s.Resource, err = mr.ReadString()
		case "type":
			s.Type, err = mr.ReadString()
		case "start":
			s.Start, err = mr.ReadInt64()
		case "duration":
			s.Duration, err = mr.ReadInt64()
		case "span_id":
			s.SpanID, err = readUint(mr)
		case "trace_id":
			s.TraceID, err = readUint(mr)
		case "parent_id":
			s.ParentID, err = readUint(mr)
		case "error":
			s.Error, err = mr.ReadInt32()
		case "meta":
			s.Meta, err = readStringMap(mr)
		case "metrics":
			s.Metrics, err = readMetrics(mr)
		case "span_links":
			s.Links, err = readLinks(mr)
		default: // meta_struct, span_events and future fields
			err = mr.Skip()
		}
		if err != nil {
			return s, fmt.Errorf("field %q: %w", key, err)
		}
	}
	return s, nil
}

// readUint accepts any integer encoding: tracers write ids as uint64, but a small id may
// arrive as a positive fixint.
func readUint(mr *msgp.Reader) (uint64, error) {
	t, err := mr.NextType()
	if err != nil {
		return 0, err
	}
	if t == msgp.IntType {
		v, err := mr.ReadInt64()
		return uint64(v), err
	}
	return mr.ReadUint64()
}

func readStringMap(mr *msgp.Reader) (map[string]string, error) {
	return readMap(mr, (*msgp.Reader).ReadString)
}

func readMetrics(mr *msgp.Reader) (map[string]float64, error) {
	return readMap(mr, readNumber)
}

// readMap reads a msgpack map of string keys, each value by readValue.
func readMap[V any](mr *msgp.Reader, readValue func(*msgp.Reader) (V, error)) (map[string]V, error) {
	n, err := mr.ReadMapHeader()
	if err != nil {
		return nil, err
	}
	m := make(map[string]V, n)
	for i := uint32(0); i < n; i++ {
		k, err := mr.ReadString()
		if err != nil {
			return nil, err
		}
		v, err := readValue(mr)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

// readNumber reads a metric, which tracers encode as an int, a uint or a float.
func readNumber(mr *msgp.Reader) (float64, error) {
	t, err := mr.NextType()
	if err != nil {
		return 0, err
	}
	switch t {
	case msgp.IntType:
		x, err := mr.ReadInt64()
		return float64(x), err
	case msgp.UintType:
		x, err := mr.ReadUint64()
		return float64(x), err
	}
	return mr.ReadFloat64()
}

func readLinks(mr *msgp.Reader) ([]Link, error) {
	n, err := mr.ReadArrayHeader()
	if err != nil {
		return nil, err
	}
	links := make([]Link, 0, n)
	for i := uint32(0); i < n; i++ {
		fields, err := mr.ReadMapHeader()
		if err != nil {
			return nil, err
		}
		var l Link
		for j := uint32(0); j < fields; j++ {
			key, err := mr.ReadString()
			if err != nil {
				return nil, err
			}
			switch key {
			case "trace_id":
				l.TraceID, err = readUint(mr)
			case "trace_id_high":
				l.TraceIDHigh, err = readUint(mr)
			case "span_id":
				l.SpanID, err = readUint(mr)
			case "attributes":
				l.Attributes, err = readStringMap(mr)
			default:
				err = mr.Skip()
			}
			if err != nil {
				return nil, fmt.Errorf("link %d %q: %w", i, key, err)
			}
		}
		links = append(links, l)
	}
	return links, nil
}
