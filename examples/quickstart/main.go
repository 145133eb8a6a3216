// Command quickstart is longhaul's demo (`make demo`): it starts a local Temporal dev
// server, offloads payloads to a directory, and runs a workflow that sends a 50 MiB input
// to an activity which returns a 50 MiB result — ten times what Temporal accepts inline —
// then shows what stayed in history and what went to the store.
//
//	go run ./examples/quickstart [-size 50MiB] [-dir DIR] [-temporal HOST:PORT]
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/internal/bytesize"
	"github.com/seed-a62fcf0e/longhaul/internal/testenv"
)

type config struct {
	size     int    // payload size in bytes
	dir      string // blob directory; "" = a temporary one
	temporal string // existing server; "" = start a dev server
	runs     int    // workflows to run (the second shows dedupe)
}

func main() {
	var cfg config
	size := flag.String("size", "50MiB", "size of the activity's input and of its result (e.g. 50MiB, 200MiB)")
	flag.StringVar(&cfg.dir, "dir", "", "directory for offloaded blobs (default: a temporary directory, removed at exit)")
	flag.StringVar(&cfg.temporal, "temporal", "", "address of a running Temporal frontend (default: start a local dev server)")
	flag.IntVar(&cfg.runs, "runs", 2, "workflows to run with the same input; the second one reuses the stored blobs")
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
	start := time.Now()
	addr := cfg.temporal
	if addr == "" {
		fmt.Fprintln(out, "starting a local Temporal dev server...")
		srv, err := testenv.StartDevServer(ctx, testenv.DevServerOptions{})
		if err != nil {
			return fmt.Errorf("start dev server (run `make tools` first): %w", err)
		}
		defer srv.Stop()
		addr = srv.Address
		fmt.Fprintf(out, "dev server on %s (started in %s)\n", addr, time.Since(start).Round(time.Millisecond))
	}

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
		fmt.Fprintf(out, "  workflow and activity input: %s (sha256 %s...)\n", bytesize.Format(int64(res.InputSize)), res.InputSHA256[:16])
		fmt.Fprintf(out, "  activity result:             %s, verified by the workflow\n", bytesize.Format(int64(res.ResultSize)))
		fmt.Fprintf(out, "  history:                     %d events, %s in all, largest event %s\n", events, bytesize.Format(hist), bytesize.Format(largest))
		fmt.Fprintf(out, "  payloads offloaded:          %d\n", after.PayloadsOffloaded-before.PayloadsOffloaded)
		fmt.Fprintf(out, "  blobs stored:                %d (%s after compression)\n", after.BlobsStored-before.BlobsStored, bytesize.Format(after.BytesStored-before.BytesStored))
		fmt.Fprintf(out, "  dedupe hits:                 %d\n", after.DedupeHits-before.DedupeHits)
	}
	st := c.Stats()
	fmt.Fprintf(out, "\ntotal: %d blobs, %s stored, %d dedupe hits, %d cache hits; elapsed %s\n",
		st.BlobsStored, bytesize.Format(st.BytesStored), st.DedupeHits, st.CacheHits, time.Since(start).Round(time.Millisecond))
	return nil
}

// Result is what MigrationWorkflow reports.
type Result struct {
	InputSize   int
	InputSHA256 string
	ResultSize  int
	Verified    bool
}

// MigrationWorkflow hands its large input (think: a table snapshot) to an activity and
// checks the activity's large result.
func MigrationWorkflow(ctx workflow.Context, input []byte) (Result, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 5 * time.Minute})
	var out []byte
	if err := workflow.ExecuteActivity(ctx, TransformActivity, input).Get(ctx, &out); err != nil {
		return Result{}, err
	}
	return Result{
		InputSize:   len(input),
		InputSHA256: sum(input),
		ResultSize:  len(out),
		Verified:    len(out) == len(input) && sum(out) == sum(transform(input)),
	}, nil
}

// TransformActivity returns a transformed copy of its input, as large as the input.
func TransformActivity(ctx context.Context, input []byte) ([]byte, error) {
	activity.GetLogger(ctx).Info("transforming", "bytes", len(input))
	return transform(input), nil
}

func transform(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	copy(out, "TRANSFORMED:")
	return out
}

// generate returns size bytes of JSON-like rows with random ids: compressible, like a
// real table snapshot.
func generate(size int) []byte {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	b := make([]byte, 0, size+128)
	for len(b) < size {
		b = append(b, `{"id":`...)
		b = strconv.AppendUint(b, r.Uint64(), 10)
		b = append(b, `,"user":"user-`...)
		b = strconv.AppendUint(b, uint64(r.Uint32()), 16)
		b = append(b, `","state":"active","balance":`...)
		b = strconv.AppendInt(b, int64(r.IntN(1e6)), 10)
		b = append(b, "}\n"...)
	}
	return b[:size]
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
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

func parseSize(s string) (int, error) {
	n, err := bytesize.Parse(s)
	if err != nil || n <= 0 || n > 4<<30 {
		return 0, fmt.Errorf("-size %q: want a positive size up to 4GiB, e.g. 50MiB", s)
	}
	return int(n), nil
}
