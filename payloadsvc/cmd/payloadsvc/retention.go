package main

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/retention"
)

// retentionCheckTimeout bounds the start-up retention check; the service serves
// meanwhile.
const retentionCheckTimeout = 30 * time.Second

// checkRetention runs `longhaul check retention` for the service's store and logs the
// verdict: a warning when the lifecycle rules would delete blobs in use or never expire
// any. Without --temporal-address the namespace retention is unknown and the check is
// skipped with an info log.
func checkRetention(ctx context.Context, cfg *config, store driver.Store, log *slog.Logger) {
	if cfg.temporalAddress == "" {
		log.Info("payloadsvc: retention check skipped: set --temporal-address to compare the store's lifecycle with the namespace retention")
		return
	}
	src, ok := store.(retention.Source)
	if !ok {
		log.Info("payloadsvc: retention check skipped: the store has no lifecycle rules", "store", storeName(store))
		return
	}
	ctx, cancel := context.WithTimeout(ctx, retentionCheckTimeout)
	defer cancel()
	lc, err := src.Lifecycle(ctx)
	if err != nil {
		lc.Unknown = err.Error()
	}
	cl, err := client.DialContext(ctx, client.Options{HostPort: cfg.temporalAddress, Logger: sdkLogger{log}})
	namespaces := cfg.temporalNamespace.values
	if len(namespaces) == 0 {
		namespaces = []string{"default"}
	}
	for _, ns := range namespaces {
		p := retention.Params{Namespace: ns, MaxRun: cfg.maxRun}
		if err != nil {
			p.RetentionUnknown = err.Error()
		} else if p.Retention, err = retention.NamespaceRetention(ctx, cl.WorkflowService(), ns); err != nil {
			p.RetentionUnknown, err = err.Error(), nil
		}
		logVerdict(ctx, log, retention.Check(lc, p))
	}
	if cl != nil {
		cl.Close()
	}
}

func logVerdict(ctx context.Context, log *slog.Logger, r retention.Report) {
	level := slog.LevelInfo
	if r.Verdict == retention.Unsafe || r.Verdict == retention.NoExpiry {
		level = slog.LevelWarn
	}
	log.LogAttrs(ctx, level, "payloadsvc: retention check", slog.String("verdict", string(r.Verdict)),
		slog.String("store", r.Store), slog.String("namespace", r.Namespace), slog.Int("needed_days", r.NeededDays),
		slog.String("reason", r.Reason))
}

// sdkLogger sends the SDK client's logs to slog at debug level.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Debug(msg string, kv ...any) { l.log.Debug(msg, kv...) }
func (l sdkLogger) Info(msg string, kv ...any)  { l.log.Debug(msg, kv...) }
func (l sdkLogger) Warn(msg string, kv ...any)  { l.log.Debug(msg, kv...) }
func (l sdkLogger) Error(msg string, kv ...any) { l.log.Debug(msg, kv...) }
