// Command quickstart is longhaul's demo (`make demo`): it starts a local Temporal dev
// server, offloads payloads to a directory, and runs a workflow that sends a 50 MiB input
// to an activity which returns a 50 MiB result — ten times what Temporal accepts inline —
// then shows what stayed in history and what went to the store.
//
// With -ui (`make demo UI=1`) the dev server also serves the Temporal web UI, decoding
// payloads through the payload service, which the demo runs over the same directory; the
// demo prints the link to the first workflow and runs until Ctrl-C.
//
//	go run ./examples/quickstart [-size 50MiB] [-ui] [-dir DIR] [-temporal HOST:PORT] [-temporal-cli PATH]
//
// It uses only longhaul's public packages and the Temporal SDK, so it builds as well
// when copied out of this repository.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
)

type config struct {
	size     int    // payload size in bytes
	dir      string // blob directory; "" = a temporary one
	temporal string // existing server; "" = start a dev server
	cli      string // temporal CLI for the dev server; "" = find it (findTemporalCLI)
	runs     int    // workflows to run (the second shows dedupe)
	ui       bool   // dev server with the web UI and the payload service; wait for Ctrl-C
}

func main() {
	var cfg config
	size := flag.String("size", "50MiB", "size of the activity's input and of its result (e.g. 50MiB, 200MiB)")
	flag.StringVar(&cfg.dir, "dir", "", "directory for offloaded blobs (default: a temporary directory, removed at exit)")
	flag.StringVar(&cfg.temporal, "temporal", "", "address of a running Temporal frontend (default: start a local dev server)")
	flag.StringVar(&cfg.cli, "temporal-cli", "",
		"the temporal CLI that runs the dev server (default: $LONGHAUL_TEMPORAL, the pinned one `make tools` built, or temporal on $PATH)")
	flag.IntVar(&cfg.runs, "runs", 2, "workflows to run with the same input; the second one reuses the stored blobs")
	flag.BoolVar(&cfg.ui, "ui", false,
		"also start the Temporal web UI, decoding through the payload service; print the workflow's link and run until Ctrl-C")
	flag.Parse()
	n, err := parseSize(*size)
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(2)
	}
	cfg.size = n
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	if cfg.runs <= 0 {
		cfg.runs = 1
	}
	if cfg.ui && cfg.temporal != "" {
		return errors.New("-ui starts a dev server of its own: drop -temporal")
	}
	start := time.Now()
	dir := cfg.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "longhaul-quickstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	store, err := filestore.New(dir)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	addr := cfg.temporal
	var env *servers
	if addr == "" {
		fmt.Fprintln(out, "starting a local Temporal dev server...")
		env, err = startServers(ctx, cfg, store, logger)
		if err != nil {
			return err
		}
		defer env.stop()
		addr = env.address
		fmt.Fprintf(out, "dev server on %s (started in %s)\n", addr, time.Since(start).Round(time.Millisecond))
	}

	c, err := codec.New(store, codec.Options{Namespace: "default", Logger: logger})
	if err != nil {
		return err
	}
	cl, err := client.DialContext(ctx, client.Options{
		HostPort:      addr,
		DataConverter: codec.NewDataConverter(c, nil),
		Logger:        tlog.NewStructuredLogger(logger),
	})
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer cl.Close()

	const taskQueue = "longhaul-quickstart"
	w := worker.New(cl, taskQueue, worker.Options{})
	w.RegisterWorkflow(MigrationWorkflow)
	w.RegisterActivity(TransformActivity)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	fmt.Fprintf(out, "blobs go to %s\n", dir)

	input := generate(cfg.size)
	var first client.WorkflowRun
	for i := 1; i <= cfg.runs; i++ {
		t0 := time.Now()
		before := c.Stats()
		run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:        fmt.Sprintf("quickstart-%d-%d", time.Now().Unix(), i),
			TaskQueue: taskQueue,
			// The workflow task that stores a large activity input needs more than the
			// 10s default on a small machine.
			WorkflowTaskTimeout: time.Minute,
		}, MigrationWorkflow, input)
		if err != nil {
			return fmt.Errorf("start workflow: %w", err)
		}
		if first == nil {
			first = run
		}
		var res Result
		if err := run.Get(ctx, &res); err != nil {
			return fmt.Errorf("workflow %s: %w", run.GetID(), err)
		}
		if !res.Verified {
			return fmt.Errorf("workflow %s: the activity's result did not match its input", run.GetID())
		}
		hist, events, largest, err := historySize(ctx, cl, run.GetID())
		if err != nil {
			return err
		}
		after := c.Stats()
		fmt.Fprintf(out, "\nworkflow %s (run %d of %d) completed in %s\n", run.GetID(), i, cfg.runs, time.Since(t0).Round(time.Millisecond))
		fmt.Fprintf(out, "  workflow and activity input: %s (sha256 %s...)\n", formatSize(int64(res.InputSize)), res.InputSHA256[:16])
		fmt.Fprintf(out, "  activity result:             %s, verified by the workflow\n", formatSize(int64(res.ResultSize)))
		fmt.Fprintf(out, "  history:                     %d events, %s in all, largest event %s\n", events, formatSize(hist), formatSize(largest))
		fmt.Fprintf(out, "  payloads offloaded:          %d\n", after.PayloadsOffloaded-before.PayloadsOffloaded)
		fmt.Fprintf(out, "  blobs stored:                %d (%s after compression)\n", after.BlobsStored-before.BlobsStored,
			formatSize(after.BytesStored-before.BytesStored))
		fmt.Fprintf(out, "  dedupe hits:                 %d\n", after.DedupeHits-before.DedupeHits)
	}
	st := c.Stats()
	fmt.Fprintf(out, "\ntotal: %d blobs, %s stored, %d dedupe hits, %d cache hits; elapsed %s\n",
		st.BlobsStored, formatSize(st.BytesStored), st.DedupeHits, st.CacheHits, time.Since(start).Round(time.Millisecond))

	if env == nil || env.ui == "" {
		return nil
	}
	fmt.Fprintf(out, "\nThe Temporal UI shows the first workflow's history with its payloads decoded by the\n"+
		"payload service on %s (a preview with a download link for each large one):\n\n  %s\n\n"+
		"Press Ctrl-C to stop.\n", env.payloadsvc, historyLink(env.ui, first))
	<-ctx.Done()
	fmt.Fprintln(out, "stopping")
	return nil
}

// historyLink is the UI's page of a run's history.
func historyLink(ui string, run client.WorkflowRun) string {
	return ui + "/namespaces/default/workflows/" + url.PathEscape(run.GetID()) + "/" + url.PathEscape(run.GetRunID()) + "/history"
}

// historySize sums the serialized events of the workflow's history.
func historySize(ctx context.Context, cl client.Client, id string) (total int64, events int, largest int64, err error) {
	iter := cl.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			return 0, 0, 0, err
		}
		n := int64(proto.Size(ev))
		total += n
		events++
		largest = max(largest, n)
	}
	return total, events, largest, nil
}

// sizeUnits are the binary units of -size and of the report, largest first.
var sizeUnits = []struct {
	name string
	n    int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}

// parseSize reads -size: a whole number of bytes, optionally with B, KiB, MiB or GiB.
func parseSize(s string) (int, error) {
	num, mult := strings.TrimSuffix(s, "B"), int64(1)
	for _, u := range sizeUnits {
		if v, ok := strings.CutSuffix(s, u.name); ok {
			num, mult = v, u.n
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (4<<30)/mult {
		return 0, fmt.Errorf("-size %q: want a positive size up to 4GiB, e.g. 50MiB", s)
	}
	return int(n * mult), nil
}

// formatSize prints n with one decimal in the largest unit that keeps it at least 1.
func formatSize(n int64) string {
	for _, u := range sizeUnits {
		if n >= u.n {
			return fmt.Sprintf("%.1f %s", float64(n)/float64(u.n), u.name)
		}
	}
	return fmt.Sprintf("%d B", n)
}
