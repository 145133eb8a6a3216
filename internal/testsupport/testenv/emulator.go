package testenv

import (
	"path/filepath"
	"time"
)

// emulator is what the storage emulators (fake-gcs-server, Azurite, versitygw) run in:
// a work directory, a log in it and a child process on a free loopback port.
type emulator struct {
	// LogPath is the server's combined stdout/stderr.
	LogPath string

	proc *process
	dir  workDir
}

// startOnFreePort prepares e's work directory (dir, or a new temporary one named after
// pattern) with logName in it, then runs start on a free port, again on another one
// while the failure is one a fresh port may cure. A failure removes the directory.
// prepare, if not nil, runs in between, e.g. to lay out the server's data.
func (e *emulator) startOnFreePort(dir, pattern, logName string, prepare func() error, start func(port int) error) error {
	wd, err := newWorkDir(dir, pattern)
	if err != nil {
		return err
	}
	e.dir = wd
	e.LogPath = filepath.Join(wd.path, logName)
	if prepare != nil {
		err = prepare()
	}
	if err == nil {
		err = retryStart(func() error {
			port, err := FreePort()
			if err != nil {
				return err
			}
			return start(port)
		})
	}
	if err != nil {
		e.dir.remove()
	}
	return err
}

// Stop stops the server and removes its temporary directory.
func (e *emulator) Stop() {
	if e.proc != nil {
		e.proc.stop(5 * time.Second)
	}
	e.dir.remove()
}

// LogTail returns the end of the server log.
func (e *emulator) LogTail() string { return tailFile(e.LogPath, 8192) }
