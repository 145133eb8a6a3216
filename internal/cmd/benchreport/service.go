package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// serviceReadyTimeout bounds the wait for a started service's /healthz.
const serviceReadyTimeout = 20 * time.Second

// errServiceExited: the service ended before it answered /healthz (its port was taken
// between picking and binding, or a bad flag); its log says which.
var errServiceExited = errors.New("payloadsvc exited before it was healthy")

// service is the payloadsvc binary, built from this module, on a loopback port over a
// directory store, and a blobclient for it: the service as it is deployed, in a process
// of its own. The store is emptied before each iteration (untimed), so nothing
// deduplicates and the service's memory does not grow: it is in tmpfs where there is one,
// because a mem:// store keeping every blob would make each iteration fault in fresh
// pages, which is no part of a round trip (and costly in a VM).
type service struct {
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has been waited for
	logPath  string
	storeDir string
	client   *blobclient.Client
}

// buildService builds ./payloadsvc/cmd/payloadsvc into dir.
func buildService(dir string) (string, error) {
	bin := filepath.Join(dir, "payloadsvc")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/seed-a62fcf0e/longhaul/payloadsvc/cmd/payloadsvc").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build payloadsvc: %w\n%s", err, out)
	}
	return bin, nil
}

// startService starts bin over a store in storeDir, its log in dir, and waits for it
// to be healthy; a start that loses its port to another process is tried again on
// another, up to three times.
func startService(bin, dir, storeDir string) (*service, error) {
	for attempt := 1; ; attempt++ {
		s, err := tryStartService(bin, dir, storeDir)
		if err == nil || attempt == 3 || !errors.Is(err, errServiceExited) {
			return s, err
		}
	}
}

func tryStartService(bin, dir, storeDir string) (*service, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	s := &service{exited: make(chan struct{}), logPath: filepath.Join(dir, "payloadsvc.log"), storeDir: storeDir}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	// Warnings only: the in-process handler this replaced logged nothing per request.
	s.cmd = exec.Command(bin, "--listen", addr, "--store", "file://"+storeDir, "--log-level", "warn")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the report
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start payloadsvc: %w", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	if s.client, err = blobclient.New("http://"+addr, blobclient.Options{Logger: discard}); err == nil {
		err = s.waitHealthy("http://" + addr + "/healthz")
	}
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// freeLoopbackAddr picks a loopback port nothing listens on now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick a port: %w", err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// waitHealthy polls url until it answers 200, the process exits, or the deadline.
func (s *service) waitHealthy(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), serviceReadyTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%w: %s", errServiceExited, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("payloadsvc not healthy at %s after %s: %s", url, serviceReadyTimeout, s.logTail())
		case <-tick.C:
		}
	}
}

// close stops the service as a deployment would (SIGTERM, drain) and kills it if it
// has not ended in 10 seconds.
func (s *service) close() {
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// cpu is the service process's CPU time so far, to the nanosecond (a 1 MiB round trip
// takes less than the 10 ms ticks of procCPU).
func (s *service) cpu() time.Duration { return procCPUPrecise(s.cmd.Process.Pid) }

// empty removes every blob from the service's store (not its temporary directory).
func (s *service) empty() error {
	entries, err := os.ReadDir(s.storeDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() != ".tmp" {
			if err := os.RemoveAll(filepath.Join(s.storeDir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// storeParent is where the service's store directory goes: tmpfs if there is one with
// room for the largest blob twice over (a container's is often 64 MiB), else the
// temporary directory.
func storeParent() string {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err == nil && st.Bavail*uint64(st.Bsize) >= 4*uint64(slices.Max(localSizes)) {
		return "/dev/shm"
	}
	return ""
}

func (s *service) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	return strings.TrimSpace(string(b[max(0, len(b)-2048):]))
}
