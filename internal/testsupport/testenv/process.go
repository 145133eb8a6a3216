package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// process is a server child process whose combined output goes to a log file.
type process struct {
	name    string
	logPath string
	logFrom int64 // log size when this run started: the log is shared by restarts

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startProcess(name, logPath string, env []string, bin string, args ...string) (*process, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, fmt.Errorf("testenv: %s log dir: %w", name, err)
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testenv: %s log: %w", name, err)
	}
	st, err := logf.Stat()
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("testenv: %s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Own process group, so a stop reaches children too and a Ctrl-C of `go test`
	// does not leave servers behind through the parent's group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("testenv: start %s: %w", name, err)
	}
	p := &process{name: name, logPath: logPath, logFrom: st.Size(), cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		logf.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended, and how.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.err
	default:
		return false, nil
	}
}

// stop sends SIGTERM to the process group, waits up to grace, then SIGKILLs it.
func (p *process) stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// kill stops the process at once, as a crash would.
func (p *process) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// tail returns the last n bytes of the process log, for failure reports.
func (p *process) tail(n int64) string {
	return tailFile(p.logPath, n)
}

// startupErrors returns the error and panic lines this run logged: a panic's stack is long
// and the tail alone loses the line that says why.
func (p *process) startupErrors() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil || int64(len(b)) < p.logFrom {
		return ""
	}
	var out []string
	for _, line := range strings.Split(string(b[p.logFrom:]), "\n") {
		if strings.Contains(line, "level=ERROR") || strings.HasPrefix(line, "panic:") ||
			strings.HasPrefix(line, "fatal error:") || strings.Contains(line, "address already in use") {
			out = append(out, line)
			if len(out) == 10 {
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

func tailFile(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	off := st.Size() - n
	if off < 0 {
		off = 0
	}
	buf := make([]byte, st.Size()-off)
	_, _ = f.ReadAt(buf, off)
	return string(buf)
}

// waitFor polls ready until it returns nil, the process exits, or the deadline passes.
// A failed start is a *startError.
func waitFor(ctx context.Context, p *process, deadline time.Duration, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	var last error
	for {
		if ok, err := p.exited(); ok {
			return p.startError(fmt.Sprintf("exited before it was ready: %v", err))
		}
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		last = ready(attempt)
		cancelAttempt()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return p.startError(fmt.Sprintf("not ready after %s: %v", deadline, last))
			}
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startError is a server that did not become ready, with what its run logged.
type startError struct {
	msg    string
	logged string // the run's error and panic lines
	tail   string
}

func (p *process) startError(what string) *startError {
	return &startError{msg: "testenv: " + p.name + " " + what, logged: p.startupErrors(), tail: p.tail(4096)}
}

func (e *startError) Error() string {
	return e.msg + "\nerrors logged:\n" + e.logged + "\nlog tail:\n" + e.tail
}

// transient reports whether the run failed on a port bound by someone else between being
// chosen and being listened on, or of a panic: how the Temporal CLI dies when a port it
// picked for its own internal services was taken (it logs the bind error, goes on with a
// nil listener, and panics). A start on new ports fixes that.
func (e *startError) transient() bool {
	return strings.Contains(e.logged, "address already in use") || strings.Contains(e.logged, "panic:")
}

// startAttempts bounds how often a server is started on fresh ports.
const startAttempts = 3

// retryStart runs start, which picks fresh ports, starts the server and waits for it,
// again while it fails transiently (see startError.transient).
func retryStart(start func() error) error {
	var err error
	for range startAttempts {
		err = start()
		var se *startError
		if !errors.As(err, &se) || !se.transient() {
			return err
		}
	}
	return err
}

// server is what forTest needs of a started server.
type server interface {
	Stop()
	LogTail() string
}

// testOptions fills the Bin (with find, which skips or fails the test without it) and
// the Dir (a test temporary directory) of a server started for one test.
func testOptions(t testing.TB, bin, dir *string, find func(testing.TB) string) {
	t.Helper()
	if *bin == "" {
		*bin = find(t)
	}
	if *dir == "" {
		*dir = t.TempDir()
	}
}

// forTest fails the test if the server did not start, and otherwise stops it in
// t.Cleanup, printing the end of its log first when the test failed.
func forTest[S server](t testing.TB, name string, s S, err error) S {
	t.Helper()
	if err == nil {
		t.Cleanup(s.Stop) // after sharedForTest's cleanup has printed the log
	}
	return sharedForTest(t, name, s, err)
}

// workDir is a server's directory: the caller's, or a temporary one it removes.
type workDir struct {
	path  string
	owned bool
}

func newWorkDir(dir, pattern string) (workDir, error) {
	if dir != "" {
		return workDir{path: dir}, nil
	}
	d, err := os.MkdirTemp("", pattern)
	if err != nil {
		return workDir{}, fmt.Errorf("testenv: work dir: %w", err)
	}
	return workDir{path: d, owned: true}, nil
}

// remove deletes the directory if it is a temporary one of ours.
func (d workDir) remove() {
	if d.owned {
		_ = os.RemoveAll(d.path)
	}
}
