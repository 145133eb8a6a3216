package payloadsvc_test

import (
	"testing"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/depcheck"
)

// TestNoCloudSDKDependencies: the service library takes a Store and links no cloud SDK;
// the command chooses the drivers (internal/storeopen).
func TestNoCloudSDKDependencies(t *testing.T) {
	depcheck.Forbid(t, "github.com/seed-a62fcf0e/longhaul/payloadsvc",
		"github.com/aws/", "cloud.google.com/", "google.golang.org/api/", "github.com/Azure/")
}
