package testenv

import (
	"context"
	"os"
	"sync"
	"testing"
)

// One dev server per test binary, for packages with many integration tests: starting a
// server costs seconds, and workflows in distinct task queues do not interfere.
var shared struct {
	mu  sync.Mutex
	srv *DevServer
	err error
}

// SharedTemporal returns the test binary's shared dev server, starting it on first use.
// Call StopShared from TestMain after m.Run (Main does both).
func SharedTemporal(t testing.TB) *DevServer {
	t.Helper()
	bin := TemporalBin(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv == nil && shared.err == nil {
		shared.srv, shared.err = StartDevServer(context.Background(), DevServerOptions{Bin: bin})
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("shared temporal dev server log (%s), last 8 KiB:\n%s", shared.srv.LogPath, shared.srv.LogTail())
		}
	})
	return shared.srv
}

// StopShared stops the shared dev server and emulators, if any were started.
func StopShared() {
	stopSharedEmulators()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		shared.srv.Stop()
		shared.srv = nil
	}
}

// Main runs the tests and then stops the shared servers: use it as
// `func TestMain(m *testing.M) { testenv.Main(m) }`.
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}
