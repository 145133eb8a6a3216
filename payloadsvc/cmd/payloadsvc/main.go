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
	opts, err := handlerOptions(cfg, log)
	if err != nil {
		return err
	}
	store, err := payloadsvc.OpenStore(ctx, cfg.store)
	if err != nil {
		return err
	}
	h, err := payloadsvc.NewHandler(store, opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Whole-request bounds generous enough for a large blob on a slow link; a hung
		// client is cut at request-timeout, an idle keep-alive connection at 2 minutes.
		ReadTimeout:    cfg.requestTimeout,
		WriteTimeout:   cfg.requestTimeout,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if cfg.tlsCert != "" {
		scheme = "https"
	}
	log.Info("payloadsvc: listening", "addr", ln.Addr().String(), "scheme", scheme, "store", storeName(store),
		"auth", cfg.authTokensFile != "", "cors_origins", cfg.corsOrigins.values)

	errc := make(chan error, 1)
	go func() {
		if cfg.tlsCert != "" {
			errc <- srv.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("payloadsvc: shutting down: finishing in-flight requests", "timeout", cfg.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: in-flight requests still running after %s: %w", cfg.shutdownTimeout, err)
	}
	log.Info("payloadsvc: stopped")
	return nil
}

// handlerOptions turns the configuration into payloadsvc.Options, warning about
// settings that are fine for a demo and wrong for production.
func handlerOptions(cfg *config, log *slog.Logger) (payloadsvc.Options, error) {
	opts := payloadsvc.Options{
		CORSOrigins:       cfg.corsOrigins.values,
		MaxBlobBytes:      int64(cfg.maxBlobBytes),
		MaxCodecBodyBytes: int64(cfg.maxCodecBody),
		PublicURL:         cfg.publicURL,
		DownloadTTL:       cfg.downloadTTL,
		TempDir:           cfg.tempDir,
		Logger:            log,
	}
	switch {
	case cfg.previewBytes < 0:
		opts.PreviewBytes = -1
	case cfg.previewBytes == 0:
		opts.PreviewBytes = 1 // "0" means everything, not the default
	default:
		opts.PreviewBytes = int(cfg.previewBytes)
	}
	if cfg.authTokensFile != "" {
		a, err := payloadsvc.LoadTokensFile(cfg.authTokensFile)
		if err != nil {
			return opts, err
		}
		opts.Authorizer = a
	} else {
		log.Warn("payloadsvc: no --auth-tokens-file: every caller may read and write every namespace")
	}
	if cfg.signingKeyFile != "" {
		key, err := os.ReadFile(cfg.signingKeyFile)
		if err != nil {
			return opts, fmt.Errorf("signing key: %w", err)
		}
		if key = bytes.TrimSpace(key); len(key) < 16 {
			return opts, fmt.Errorf("signing key file %s holds %d bytes, want at least 16 (32 random bytes recommended)", cfg.signingKeyFile, len(key))
		}
		opts.SigningKey = key
	} else {
		log.Info("payloadsvc: no --signing-key-file: download links use a random key, so they stop working on restart and on other replicas")
	}
	if cfg.store == "mem://" {
		log.Warn("payloadsvc: store is mem://: blobs live in this process and are lost when it exits")
	}
	return opts, nil
}

func storeName(s any) string {
	if st, ok := s.(fmt.Stringer); ok {
		return st.String()
	}
	return fmt.Sprintf("%T", s)
}
