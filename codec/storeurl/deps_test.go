package storeurl_test

import (
	"testing"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/depcheck"
)

// TestNoDriverDependencies: the Mux links no driver and no SDK; a program links the
// drivers it registers, and only those.
func TestNoDriverDependencies(t *testing.T) {
	depcheck.Forbid(t, "github.com/seed-a62fcf0e/longhaul/codec/storeurl",
		"github.com/aws/", "cloud.google.com/", "google.golang.org/api/", "github.com/Azure/", "go.temporal.io/",
		"github.com/seed-a62fcf0e/longhaul/codec", "github.com/seed-a62fcf0e/longhaul/codec/memstore")
}
