package testenv

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// HistoryFixture reads a committed fixture: dir/history.json (a workflow history as
// `temporal workflow show -o json` writes it) and dir/blobs (a filestore directory),
// which it copies into a temporary directory, so that the test may write to it and the
// committed files never change. It returns the history and the copy's path.
func HistoryFixture(t testing.TB, dir string) (*historypb.History, string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "history.json"))
	if err != nil {
		t.Fatal(err)
	}
	hist, err := client.HistoryFromJSON(bytes.NewReader(raw), client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	blobs := t.TempDir()
	if err := os.CopyFS(blobs, os.DirFS(filepath.Join(dir, "blobs"))); err != nil {
		t.Fatal(err)
	}
	return hist, blobs
}
