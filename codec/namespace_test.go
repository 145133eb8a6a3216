package codec

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"go.temporal.io/sdk/converter"
)

// stubStore satisfies Store for tests that never reach it.
type stubStore struct{ Store }

// TestNamespaceMismatchWarnsOnce: converting for a namespace other than Options.Namespace
// logs one warning naming both; a matching namespace logs nothing.
func TestNamespaceMismatchWarnsOnce(t *testing.T) {
	var logs bytes.Buffer
	c, err := New(stubStore{}, Options{Namespace: "default", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	dc := NewDataConverter(c, nil)
	sc, ok := dc.(converter.DataConverterWithSerializationContext)
	if !ok {
		t.Fatal("the DataConverter does not take a serialization context")
	}
	sc.WithSerializationContext(converter.WorkflowSerializationContext{Namespace: "default", WorkflowID: "w"})
	if logs.Len() != 0 {
		t.Fatalf("warned for the configured namespace: %s", logs.String())
	}
	for i := 0; i < 3; i++ {
		sc.WithSerializationContext(converter.ActivitySerializationContext{Namespace: "prod", WorkflowID: "w"})
	}
	if n := strings.Count(logs.String(), "differs"); n != 1 {
		t.Fatalf("got %d warnings, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "options_namespace=default") || !strings.Contains(logs.String(), "namespace=prod") {
		t.Fatalf("warning does not name both namespaces: %s", logs.String())
	}
}
