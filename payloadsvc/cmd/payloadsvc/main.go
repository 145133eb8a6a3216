// Command payloadsvc runs longhaul's payload service: a blob API that lets workers
// offload large Temporal payloads without storage credentials, and a Temporal codec
// server so the UI and `temporal workflow show` can read them. Run with --help for the
// flags; each has a LONGHAUL_* environment variable.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/internal/storeopen"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the whole program, testable: it serves until ctx ends (a signal), then drains.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "payloadsvc: %v (see --help)\n", err)
		return 2
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "payloadsvc: %v\n", err)
		return 2
	}
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("payloadsvc: exiting", "error", err)
		return 1
	}
	return 0
}

func newLogger(cfg *config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", cfg.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// serve opens the store, listens, and serves until ctx ends; then it stops accepting
// connections and lets in-flight requests finish, for up to --shutdown-timeout.
func serve(ctx context.Context, cfg *config, log *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	opts, err := handlerOptions(cfg, log)
	if err != nil {
		return err
	}
	if opts.Codec.Readers, err = foreignReaders(ctx, cfg, log); err != nil {
		return err
	}
	store, err := storeopen.Open(ctx, cfg.store)
	if err != nil {
		return err
	}
	var metricsSrv *server
	if cfg.metricsListen != "" {
		if metricsSrv, err = metricsServer(cfg, &opts, log); err != nil {
			return err
		}
	}
	h, err := payloadsvc.NewHandler(store, opts)
	if err != nil {
		return err
	}
	api, err := newServer(cfg, newHTTPServer(cfg, h, log), ln, log)
	if err != nil {
		return err
	}
	if metricsSrv != nil {
		log.Info("payloadsvc: serving /metrics", "addr", metricsSrv.ln.Addr().String())
	}
	log.Info("payloadsvc: listening", "addr", ln.Addr().String(), "scheme", api.scheme, "store", storeName(store),
		"auth", cfg.authEnabled(), "cors_origins", cfg.corsOrigins.values, "max_connections", api.maxConns)
	go checkRetention(ctx, cfg, store, log)
	return serveUntilDone(ctx, cfg, log, api, metricsSrv)
}

// newHTTPServer is the API's http.Server: whole-request bounds generous enough for a
// large blob on a slow link; a hung client is cut at request-timeout, an idle keep-alive
// connection at 2 minutes. Requests that do not upload blobs get --body-read-timeout
// from the handler.
func newHTTPServer(cfg *config, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.requestTimeout,
		WriteTimeout:      cfg.requestTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// serveUntilDone serves api (and metricsSrv, if any) until one fails or ctx ends, then
// shuts them down, letting in-flight requests finish for up to --shutdown-timeout.
func serveUntilDone(ctx context.Context, cfg *config, log *slog.Logger, api, metricsSrv *server) error {
	errc := make(chan error, 2)
	go func() { errc <- api.serve() }()
	if metricsSrv != nil {
		go func() { errc <- metricsSrv.serve() }()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("payloadsvc: shutting down: finishing in-flight requests", "timeout", cfg.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if metricsSrv != nil {
		_ = metricsSrv.srv.Shutdown(sctx)
	}
	if err := api.srv.Shutdown(sctx); err != nil {
		api.srv.Close()
		return fmt.Errorf("shutdown: in-flight requests still running after %s: %w", cfg.shutdownTimeout, err)
	}
	log.Info("payloadsvc: stopped")
	return nil
}

// handlerOptions turns the configuration into payloadsvc.Options, warning about
// settings that are fine for a demo and wrong for production.
func handlerOptions(cfg *config, log *slog.Logger) (payloadsvc.Options, error) {
	opts := payloadsvc.Options{
		CORSOrigins:           cfg.corsOrigins.values,
		MaxBlobBytes:          int64(cfg.maxBlobBytes),
		MaxCodecBodyBytes:     int64(cfg.maxCodecBody),
		PublicURL:             cfg.publicURL,
		DownloadTTL:           cfg.downloadTTL,
		TempDir:               cfg.tempDir,
		Logger:                log,
		AllowedHosts:          allowedHosts(cfg),
		MaxInflightBytes:      int64(cfg.maxInflightBytes),
		MaxPayloadsPerRequest: int(cfg.maxPayloads),
		BodyReadTimeout:       cfg.bodyReadTimeout,
		WriteStallTimeout:     cfg.writeStall,
		Codec:                 codec.Options{Hash: codec.Hash(cfg.hash)},
	}
	switch {
	case cfg.previewBytes < 0:
		opts.PreviewBytes = -1
	case cfg.previewBytes == 0:
		opts.PreviewBytes = 1 // "0" means everything, not the default
	default:
		opts.PreviewBytes = int(cfg.previewBytes)
	}
	a, err := authorizer(cfg, log)
	if err != nil {
		return opts, err
	}
	if a != nil {
		opts.Authorizer = a
	} else {
		log.Warn("payloadsvc: no --auth-tokens-file or --oidc-issuer: every caller may read and write every namespace; " +
			"only IP, localhost and --allowed-host names are answered")
	}
	if err := secretOptions(cfg, &opts, log); err != nil {
		return opts, err
	}
	if cfg.store == "mem://" {
		log.Warn("payloadsvc: store is mem://: blobs live in this process and are lost when it exits")
	}
	return opts, nil
}

// secretOptions reads the metrics token and the download signing key into opts,
// warning when either is missing where it matters.
func secretOptions(cfg *config, opts *payloadsvc.Options, log *slog.Logger) error {
	if cfg.metricsTokenFile != "" {
		tok, err := readSecret(cfg.metricsTokenFile, "metrics token", log)
		if err != nil {
			return err
		}
		if len(tok) < payloadsvc.MinTokenLength {
			log.Warn("payloadsvc: weak tokens: the metrics token is under 16 characters: use 32 random characters or more")
		}
		opts.MetricsToken = string(tok)
	} else if cfg.authEnabled() && cfg.metricsListen == "" {
		log.Warn("payloadsvc: /metrics is open to every caller while the rest needs a token: set --metrics-token-file or --metrics-listen")
	}
	if cfg.signingKeyFile == "" {
		log.Info("payloadsvc: no --signing-key-file: download links use a random key, so they stop working on restart and on other replicas")
		return nil
	}
	key, err := readSecret(cfg.signingKeyFile, "signing key", log)
	if err != nil {
		return err
	}
	if len(key) < 16 {
		return fmt.Errorf("signing key file %s holds %d bytes, want at least 16 (32 random bytes recommended)", cfg.signingKeyFile, len(key))
	}
	opts.SigningKey = key
	return nil
}

// readSecret reads a secret file (refusing one that others may write, warning about
// one they may read), trimmed of surrounding white space.
func readSecret(path, what string, log *slog.Logger) ([]byte, error) {
	data, warning, err := payloadsvc.ReadSecretFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if warning != "" {
		log.Warn("payloadsvc: " + what + ": " + warning)
	}
	return bytes.TrimSpace(data), nil
}

func storeName(s any) string {
	if st, ok := s.(fmt.Stringer); ok {
		return st.String()
	}
	return fmt.Sprintf("%T", s)
}
