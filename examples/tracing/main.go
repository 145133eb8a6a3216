// Command tracing runs a worker with both halves of longhaul: the codec offloads a large
// payload, and the interceptor reports the workflow to Datadog as one RunWorkflow span with
// its activity and timer spans, sent as they finish.
//
// The agent is found the standard way (DD_TRACE_AGENT_URL, or DD_AGENT_HOST and
// DD_TRACE_AGENT_PORT; default localhost:8126); DD_SERVICE and DD_ENV apply as usual.
//
//	DD_TRACE_AGENT_URL=http://datadog-agent:8126 tracing -temporal 127.0.0.1:7233
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkinterceptor "go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"gopkg.in/DataDog/dd-trace-go.v1/ddtrace/tracer"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/interceptor"
)

type settings struct {
	temporal string
	blobDir  string
	size     int
	wait     time.Duration
}

func main() {
	var s settings
	flag.StringVar(&s.temporal, "temporal", client.DefaultHostPort, "Temporal frontend host:port")
	flag.StringVar(&s.blobDir, "blobs", os.TempDir()+"/longhaul-tracing-blobs", "directory for offloaded payloads")
	flag.IntVar(&s.size, "size", 8<<20, "bytes of the activity's result")
	flag.DurationVar(&s.wait, "timer", 2*time.Second, "how long the workflow sleeps between its activities")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, s); err != nil {
		fmt.Fprintln(os.Stderr, "tracing:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, s settings) error {
	// The tracer reads DD_TRACE_AGENT_URL / DD_AGENT_HOST, DD_SERVICE, DD_ENV itself.
	tracer.Start(tracer.WithService("longhaul-tracing-example"), tracer.WithLogStartup(false))
	defer tracer.Stop()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := filestore.New(s.blobDir)
	if err != nil {
		return err
	}
	tracing, err := interceptor.New(interceptor.Options{})
	if err != nil {
		return err
	}
	defer tracing.Flush() // after the worker stops, before the tracer does: spans still being grouped
	// Offloads and fetches of large payloads become spans in the workflow's trace.
	c, err := codec.New(store, codec.Options{Logger: logger, Tracer: tracing.CodecTracer()})
	if err != nil {
		return err
	}
	cl, err := client.DialContext(ctx, client.Options{
		HostPort:      s.temporal,
		DataConverter: codec.NewDataConverter(c, nil),
		Interceptors:  []sdkinterceptor.ClientInterceptor{tracing}, // workers made from cl inherit it
		Logger:        tlog.NewStructuredLogger(logger),
	})
	if err != nil {
		return fmt.Errorf("dial temporal %s: %w", s.temporal, err)
	}
	defer cl.Close()

	const taskQueue = "longhaul-tracing"
	w := worker.New(cl, taskQueue, worker.Options{})
	w.RegisterWorkflow(ExportWorkflow)
	w.RegisterActivity(ExtractActivity)
	w.RegisterActivity(LoadActivity)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()

	run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: taskQueue}, ExportWorkflow, s.size, s.wait)
	if err != nil {
		return err
	}
	var loaded int
	if err := run.Get(ctx, &loaded); err != nil {
		return fmt.Errorf("workflow %s: %w", run.GetID(), err)
	}
	if loaded != s.size {
		return fmt.Errorf("workflow %s loaded %d bytes, want %d", run.GetID(), loaded, s.size)
	}
	fmt.Fprintf(out, "workflow %s (run %s) moved %d bytes; trace sent to the Datadog agent\n", run.GetID(), run.GetRunID(), loaded)
	return nil
}

// ExportWorkflow extracts a large batch, waits, and loads it: two activity spans and a
// timer span inside one RunWorkflow span.
func ExportWorkflow(ctx workflow.Context, size int, wait time.Duration) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var batch []byte
	if err := workflow.ExecuteActivity(ctx, ExtractActivity, size).Get(ctx, &batch); err != nil {
		return 0, err
	}
	if err := workflow.Sleep(ctx, wait); err != nil {
		return 0, err
	}
	var n int
	err := workflow.ExecuteActivity(ctx, LoadActivity, batch).Get(ctx, &n)
	return n, err
}

// ExtractActivity returns size bytes (offloaded by the codec).
func ExtractActivity(ctx context.Context, size int) ([]byte, error) {
	// The activity logger carries dd.trace_id and dd.span_id.
	activity.GetLogger(ctx).Info("extracting", "bytes", size)
	if size < 0 {
		return nil, errors.New("negative size")
	}
	return make([]byte, size), nil
}

// LoadActivity "loads" the batch and reports its size.
func LoadActivity(ctx context.Context, batch []byte) (int, error) {
	return len(batch), nil
}
