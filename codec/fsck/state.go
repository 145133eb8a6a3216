package fsck

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// StateVersion is the format of state files this package reads and writes.
const StateVersion = 1

// State is how far a walk got: written after every page of workflows, so a killed walk
// continues from the page it was in. It carries the problems found so far, so the final
// report of a resumed walk is the whole walk's.
type State struct {
	Version   int    `json:"version"`
	Namespace string `json:"namespace"`
	Query     string `json:"query"`
	Verify    bool   `json:"verify"`
	// NextPageToken is the visibility page after the last finished one (empty at the
	// start).
	NextPageToken []byte `json:"nextPageToken,omitempty"`
	// LastWorkflowID is the last workflow of the last finished page.
	LastWorkflowID string `json:"lastWorkflowId,omitempty"`
	// Done is true once the walk reached the end.
	Done bool `json:"done"`
	// Counts so far. Blobs counts the distinct blobs each process checked: a resumed
	// walk checks again the good blobs its predecessor saw (only problems are kept).
	Workflows  int `json:"workflows"`
	Events     int `json:"events"`
	References int `json:"references"`
	Blobs      int `json:"blobs"`
	// Problems found so far, by blob key.
	Problems map[string]*Problem `json:"problems"`
	// Errors are workflows whose history could not be read.
	Errors []string `json:"errors,omitempty"`
}

// ErrStateMismatch is returned when a state file belongs to another walk (another
// namespace, query or --verify).
var ErrStateMismatch = errors.New("fsck: state file is for another walk")

// LoadState reads a state file; a missing file is a fresh state.
func LoadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &State{Version: StateVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fsck: state: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("fsck: state %s: %w", path, err)
	}
	if st.Version != StateVersion {
		return nil, fmt.Errorf("fsck: state %s: version %d, want %d", path, st.Version, StateVersion)
	}
	return &st, nil
}

// Save writes the state atomically: a temporary file in the same directory, synced,
// then renamed over path, so a kill leaves the old state or the new one.
func (st *State) Save(path string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("fsck: state: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("fsck: state: %w", err)
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing to remove
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("fsck: state %s: %w", path, err)
	}
	return nil
}

// matches checks that a resumed state is for the same walk.
func (st *State) matches(opts Options) error {
	if st.Namespace == "" && st.Workflows == 0 && !st.Done {
		return nil // fresh
	}
	if st.Namespace != opts.Namespace || st.Query != opts.Query || st.Verify != opts.Verify {
		return fmt.Errorf("%w: it has namespace %q, query %q, verify %t; this walk has %q, %q, %t",
			ErrStateMismatch, st.Namespace, st.Query, st.Verify, opts.Namespace, opts.Query, opts.Verify)
	}
	return nil
}
