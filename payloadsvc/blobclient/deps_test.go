package blobclient_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoServerDependencies: a worker that only talks to a payload service links neither
// the AWS SDK nor Prometheus (the service's dependencies).
func TestNoServerDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/aws/", "github.com/prometheus/", "github.com/seed-a62fcf0e/longhaul/payloadsvc\n"} {
			if strings.HasPrefix(dep+"\n", banned) {
				t.Errorf("blobclient depends on %s", dep)
			}
		}
	}
}
