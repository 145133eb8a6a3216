package testenv

import (
	"cmp"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
)

// DevServerOptions configures a Temporal dev server. The zero value is a headless server
// with a temporary SQLite file.
type DevServerOptions struct {
	// Bin is the temporal CLI; default: the pinned one from the tool cache.
	Bin string
	// Dir holds the SQLite file and the log; default: a new temporary directory.
	Dir string
	// UI starts the web UI on a free port (UIAddress).
	UI bool
	// UICodecEndpoint is passed as --ui-codec-endpoint (implies UI).
	UICodecEndpoint string
	// ExtraArgs are appended to `temporal server start-dev`.
	ExtraArgs []string
	// ReadyTimeout bounds the wait for the frontend; default 60s.
	ReadyTimeout time.Duration
}

// DevServer is a running `temporal server start-dev`.
type DevServer struct {
	// Address is the frontend host:port for client.Options.HostPort.
	Address string
	// UIAddress is the web UI's http://host:port, when started with UI.
	UIAddress string
	// Namespace is the namespace the dev server created ("default").
	Namespace string
	// LogPath is the server's combined stdout/stderr.
	LogPath string

	proc *process
	dir  workDir
}

// StartDevServer starts a dev server on random loopback ports and waits until its
// frontend answers a health check.
func StartDevServer(ctx context.Context, opts DevServerOptions) (*DevServer, error) {
	bin, err := binOr(opts.Bin, toolFinder("temporal", TemporalCLIVersion, "LONGHAUL_TEMPORAL"))
	if err != nil {
		return nil, err
	}
	opts.Bin, opts.ReadyTimeout = bin, cmp.Or(opts.ReadyTimeout, 60*time.Second)
	s := &DevServer{Namespace: "default"}
	dir, err := newWorkDir(opts.Dir, "longhaul-temporal-")
	if err != nil {
		return nil, err
	}
	s.dir = dir
	s.LogPath = filepath.Join(s.dir.path, "temporal.log")
	if err := retryStart(func() error { return s.start(ctx, opts) }); err != nil {
		s.dir.remove()
		return nil, err
	}
	return s, nil
}

// start runs the dev server on free ports and waits until it answers; a server that
// does not is stopped.
func (s *DevServer) start(ctx context.Context, opts DevServerOptions) error {
	ports := make([]int, 4)
	for i := range ports {
		p, err := FreePort()
		if err != nil {
			return err
		}
		ports[i] = p
	}
	proc, err := startProcess("temporal dev server", s.LogPath, nil, opts.Bin, s.args(opts, ports)...)
	if err != nil {
		return err
	}
	s.proc = proc
	err = waitFor(ctx, proc, opts.ReadyTimeout, s.healthy)
	if err == nil && s.UIAddress != "" {
		err = waitFor(ctx, proc, opts.ReadyTimeout, func(ctx context.Context) error {
			return dialOK(ctx, strings.TrimPrefix(s.UIAddress, "http://"))
		})
	}
	if err != nil {
		proc.stop(5 * time.Second)
	}
	return err
}

// args returns the arguments of `temporal server start-dev` on ports (frontend, HTTP,
// metrics, UI) and sets Address and UIAddress to match.
func (s *DevServer) args(opts DevServerOptions, ports []int) []string {
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(ports[0]),
		"--http-port", strconv.Itoa(ports[1]),
		"--metrics-port", strconv.Itoa(ports[2]),
		"--db-filename", filepath.Join(s.dir.path, "temporal.db"),
		"--log-level", "warn",
	}
	if opts.UI || opts.UICodecEndpoint != "" {
		args = append(args, "--ui-port", strconv.Itoa(ports[3]))
		s.UIAddress = "http://127.0.0.1:" + strconv.Itoa(ports[3])
		if opts.UICodecEndpoint != "" {
			args = append(args, "--ui-codec-endpoint", opts.UICodecEndpoint)
		}
	} else {
		args = append(args, "--headless")
	}
	s.Address = "127.0.0.1:" + strconv.Itoa(ports[0])
	return append(args, opts.ExtraArgs...)
}

func dialOK(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

func (s *DevServer) healthy(ctx context.Context) error {
	c, err := client.DialContext(ctx, client.Options{HostPort: s.Address, Namespace: s.Namespace, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer c.Close()
	// The namespace is registered a moment after the frontend starts answering.
	_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: s.Namespace})
	return err
}

// Dial returns a client for the server's namespace; opts.HostPort and Namespace are filled in.
func (s *DevServer) Dial(ctx context.Context, opts client.Options) (client.Client, error) {
	opts.HostPort = s.Address
	if opts.Namespace == "" {
		opts.Namespace = s.Namespace
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	return client.DialContext(ctx, opts)
}

// Stop stops the server (SIGTERM, then SIGKILL after 10s) and removes its temporary directory.
func (s *DevServer) Stop() {
	if s.proc != nil {
		s.proc.stop(10 * time.Second)
	}
	s.dir.remove()
}

// LogTail returns the end of the server log.
func (s *DevServer) LogTail() string { return s.proc.tail(8192) }

// Temporal starts a dev server for one test and stops it in t.Cleanup; the server log is
// printed when the test fails.
func Temporal(t testing.TB, opts DevServerOptions) *DevServer {
	t.Helper()
	testOptions(t, &opts.Bin, &opts.Dir, TemporalBin)
	s, err := StartDevServer(context.Background(), opts)
	return forTest(t, "temporal dev server", s, err)
}

// Client dials the server for one test and closes the client in t.Cleanup.
func (s *DevServer) Client(t testing.TB, opts client.Options) client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := s.Dial(ctx, opts)
	if err != nil {
		t.Fatalf("dial temporal %s: %v", s.Address, err)
	}
	t.Cleanup(c.Close)
	return c
}

// quietLogger keeps SDK chatter out of test output unless LONGHAUL_SDK_LOG=1.
func quietLogger() tlog.Logger {
	level := slog.LevelWarn
	if os.Getenv("LONGHAUL_SDK_LOG") == "1" {
		level = slog.LevelDebug
	}
	return tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
}
