package testenv

import (
	"context"
	"sync"
	"testing"
)

// One emulator of each kind per test binary: each store in a test uses a prefix of its
// own, and a server per test would cost seconds each (Azurite starts slowly). Main stops
// them.
var sharedEmu struct {
	mu     sync.Mutex
	gcs    *GCSServer
	gcsErr error
	az     *AzuriteServer
	azErr  error
}

// SharedGCS returns the test binary's fake-gcs-server, starting it on first use; a
// missing binary skips the test (fails it when CI=true).
func SharedGCS(t testing.TB) *GCSServer {
	t.Helper()
	bin := RequireTool(t, "fake-gcs-server", FakeGCSVersion, "LONGHAUL_FAKE_GCS")
	sharedEmu.mu.Lock()
	defer sharedEmu.mu.Unlock()
	if sharedEmu.gcs == nil && sharedEmu.gcsErr == nil {
		sharedEmu.gcs, sharedEmu.gcsErr = StartGCS(context.Background(), GCSOptions{Bin: bin})
	}
	return sharedForTest(t, "shared fake-gcs-server", sharedEmu.gcs, sharedEmu.gcsErr)
}

// SharedAzurite returns the test binary's Azurite, starting it on first use; a missing
// launcher skips the test (fails it when CI=true).
func SharedAzurite(t testing.TB) *AzuriteServer {
	t.Helper()
	bin, err := AzuritePath()
	Require(t, err)
	sharedEmu.mu.Lock()
	defer sharedEmu.mu.Unlock()
	if sharedEmu.az == nil && sharedEmu.azErr == nil {
		sharedEmu.az, sharedEmu.azErr = StartAzurite(context.Background(), AzuriteOptions{Bin: bin})
	}
	return sharedForTest(t, "shared azurite", sharedEmu.az, sharedEmu.azErr)
}

// sharedForTest fails the test if the shared server did not start, and prints the end
// of its log when the test fails; the server outlives the test.
func sharedForTest[S server](t testing.TB, name string, s S, err error) S {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log, last 8 KiB:\n%s", name, s.LogTail())
		}
	})
	return s
}

// stopSharedEmulators stops the shared emulators that were started.
func stopSharedEmulators() {
	sharedEmu.mu.Lock()
	defer sharedEmu.mu.Unlock()
	if sharedEmu.gcs != nil {
		sharedEmu.gcs.Stop()
		sharedEmu.gcs = nil
	}
	if sharedEmu.az != nil {
		sharedEmu.az.Stop()
		sharedEmu.az = nil
	}
}
