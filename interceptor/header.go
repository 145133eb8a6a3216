package interceptor

import (
	"errors"
	"fmt"

	v2 "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// The header format is Temporal's contrib/datadog one, so workers with either
// interceptor understand each other during a migration: the tracer's text-map carrier
// (whatever propagation styles the tracer is configured with), as a map[string]string
// encoded by the default data converter, under the header key.

// writeHeader injects sc into a Temporal header.
func writeHeader(header map[string]*commonpb.Payload, key string, sc *v2.SpanContext) error {
	if header == nil || sc == nil {
		return nil
	}
	carrier := v2.TextMapCarrier{}
	if err := v2.Inject(sc, carrier); err != nil {
		return fmt.Errorf("interceptor: inject span context: %w", err)
	}
	if len(carrier) == 0 { // tracer not started
		return nil
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(map[string]string(carrier))
	if err != nil {
		return fmt.Errorf("interceptor: encode header %q: %w", key, err)
	}
	header[key] = p
	return nil
}

// readHeader extracts a span context from a Temporal header; nil when there is none.
func readHeader(header map[string]*commonpb.Payload, key string) (*v2.SpanContext, error) {
	p := header[key]
	if p == nil {
		return nil, nil
	}
	var m map[string]string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &m); err != nil {
		return nil, fmt.Errorf("interceptor: decode header %q: %w", key, err)
	}
	return extract(m)
}

func extract(m map[string]string) (*v2.SpanContext, error) {
	if len(m) == 0 {
		return nil, nil
	}
	sc, err := v2.Extract(v2.TextMapCarrier(m))
	if errors.Is(err, v2.ErrSpanContextNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("interceptor: extract span context: %w", err)
	}
	return sc, nil
}

// writeNexusHeader injects sc into a Nexus header (a nexus.Header), whose values are
// strings: the carrier keys go in as they are, as the SDK's tracing interceptor does.
// Carrier keys are lower case already, as Nexus header keys must be.
func writeNexusHeader(header map[string]string, sc *v2.SpanContext) error {
	if header == nil || sc == nil {
		return nil
	}
	carrier := v2.TextMapCarrier{}
	if err := v2.Inject(sc, carrier); err != nil {
		return fmt.Errorf("interceptor: inject span context: %w", err)
	}
	for k, v := range carrier {
		header[k] = v
	}
	return nil
}
