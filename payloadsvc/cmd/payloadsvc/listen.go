package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
)

// server is an http.Server with its listener: TLS when configured, then the
// connection cap.
type server struct {
	srv      *http.Server
	ln       net.Listener
	scheme   string
	maxConns int
}

func (s *server) serve() error { return s.srv.Serve(s.ln) }

func newServer(cfg *config, srv *http.Server, ln net.Listener, log *slog.Logger) (*server, error) {
	s := &server{srv: srv, ln: ln, scheme: "http", maxConns: int(cfg.maxConnections)}
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}, MinVersion: tls.VersionTLS12}
		// TLS under the cap, so connections over it are answered over TLS too.
		s.ln, s.scheme = tls.NewListener(ln, srv.TLSConfig), "https"
	}
	if s.maxConns == 0 {
		s.maxConns = autoMaxConnections(openFileLimit())
	}
	var err error
	s.ln, err = payloadsvc.ConnLimit{Max: s.maxConns, Logger: log}.Listen(srv, s.ln)
	return s, err
}

// autoMaxConnections is the default cap: 3/4 of what the open-file limit leaves after
// some for the store, logs and the reserve, at most 4096.
func autoMaxConnections(fileLimit int) int {
	if fileLimit <= 0 {
		return 1024
	}
	return min(4096, max(16, (fileLimit-64)*3/4))
}

// metricsServer listens on --metrics-listen and serves the handler's metrics there,
// taking /metrics off the main address.
func metricsServer(cfg *config, opts *payloadsvc.Options, log *slog.Logger) (*server, error) {
	ln, err := net.Listen("tcp", cfg.metricsListen)
	if err != nil {
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts.Registry, opts.NoMetricsRoute = reg, true
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", payloadsvc.MetricsHandler(reg, opts.MetricsToken))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: cfg.bodyReadTimeout,
		WriteTimeout: cfg.requestTimeout, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	lim, err := payloadsvc.ConnLimit{Max: 64, Logger: log}.Listen(srv, ln)
	return &server{srv: srv, ln: lim, scheme: "http", maxConns: 64}, err
}

// allowedHosts is --allowed-host plus the --listen host when it is a name (IP
// literals and localhost are always allowed). With auth and no --allowed-host, it is
// empty: any Host.
func allowedHosts(cfg *config) []string {
	hosts := append([]string(nil), cfg.allowedHosts.values...)
	if len(hosts) == 0 && cfg.authTokensFile != "" {
		return nil
	}
	if h, _, err := net.SplitHostPort(cfg.listen); err == nil && h != "" && net.ParseIP(h) == nil {
		hosts = append(hosts, h)
	}
	return hosts
}
