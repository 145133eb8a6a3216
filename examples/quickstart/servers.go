package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
)

// temporalCLIVersion is the Temporal CLI the Makefile pins (`make tools`).
const temporalCLIVersion = "v1.5.1"

// servers is the local dev server and, with -ui, its web UI and the payload service the
// UI decodes payloads through.
type servers struct {
	address    string // the frontend, host:port
	ui         string // the web UI's origin; "" without -ui
	payloadsvc string // the payload service's base URL; "" without -ui
	stops      []func()
}

// startServers starts a dev server on loopback with the SDK's testsuite.StartDevServer
// and the temporal CLI of cfg. With cfg.ui it first starts the payload service over store
// and passes it to the UI as its codec endpoint, allowing the UI's origin (CORS).
func startServers(ctx context.Context, cfg config, store driver.Store, logger *slog.Logger) (_ *servers, err error) {
	cli, err := findTemporalCLI(cfg.cli)
	if err != nil {
		return nil, err
	}
	s := &servers{}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	opts := testsuite.DevServerOptions{
		ExistingPath:  cli,
		ClientOptions: &client.Options{Logger: tlog.NewStructuredLogger(logger)},
		LogLevel:      "error",
		Stdout:        os.Stderr, // the server's banner and errors stay out of the report
		Stderr:        os.Stderr,
	}
	if cfg.ui {
		// The UI learns its codec endpoint when it starts, and the endpoint admits the
		// UI's origin: both ports come first.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		uiPort, err := freePort()
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.ui = "http://127.0.0.1:" + strconv.Itoa(uiPort)
		s.payloadsvc = "http://" + ln.Addr().String()
		// The link says 127.0.0.1, the dev server's banner localhost: allow both.
		origins := []string{s.ui, "http://localhost:" + strconv.Itoa(uiPort)}
		h, err := payloadsvc.NewHandler(store, payloadsvc.Options{CORSOrigins: origins, Logger: logger})
		if err != nil {
			ln.Close()
			return nil, err
		}
		hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go hs.Serve(ln)
		s.stops = append(s.stops, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = hs.Shutdown(ctx)
		})
		opts.EnableUI = true
		opts.UIPort = strconv.Itoa(uiPort)
		opts.ExtraArgs = []string{"--ui-codec-endpoint", s.payloadsvc + "/codec"}
	}
	srv, err := testsuite.StartDevServer(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("start dev server with %s: %w", cli, err)
	}
	s.stops = append(s.stops, func() {
		srv.Client().Close()
		_ = srv.Stop() // SIGINT, then wait for it to exit
	})
	s.address = srv.FrontendHostPort()
	return s, nil
}

// stop stops what startServers started, the dev server first.
func (s *servers) stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
	s.stops = nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// findTemporalCLI returns the temporal CLI to run: path when set, else
// $LONGHAUL_TEMPORAL, else the pinned CLI in the tool cache the Makefile fills
// ($LONGHAUL_TOOLS_DIR, else $XDG_CACHE_HOME/longhaul/tools, else
// ~/.cache/longhaul/tools), else temporal on $PATH.
func findTemporalCLI(path string) (string, error) {
	if path = cmp.Or(path, os.Getenv("LONGHAUL_TEMPORAL")); path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("temporal CLI: %w", err)
		}
		return path, nil
	}
	tools := os.Getenv("LONGHAUL_TOOLS_DIR")
	if tools == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("temporal CLI: %w", err)
			}
			cache = filepath.Join(home, ".cache")
		}
		tools = filepath.Join(cache, "longhaul", "tools")
	}
	pinned := filepath.Join(tools, "temporal-"+temporalCLIVersion, "temporal")
	if _, err := os.Stat(pinned); err == nil {
		return pinned, nil
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p, nil
	} else if !errors.Is(err, exec.ErrNotFound) {
		return "", fmt.Errorf("temporal CLI: %w", err)
	}
	return "", fmt.Errorf("no temporal CLI at %s nor on $PATH: run `make tools` or pass -temporal-cli", pinned)
}
