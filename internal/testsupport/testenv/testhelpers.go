package testenv

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// Logger returns a debug-level logger that writes to t.Log, so a store's log is shown
// only for failing tests.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// Context returns a context that ends after d, or when the test ends.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var prefixSeq atomic.Int64

// UniquePrefix returns a store prefix ("t1", "t2", ...) that no other call in the test
// binary returns, so each store on a shared server starts empty.
func UniquePrefix() string { return fmt.Sprintf("t%d", prefixSeq.Add(1)) }
