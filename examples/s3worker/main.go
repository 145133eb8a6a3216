// Command s3worker is a production-shaped worker and starter: payloads over the threshold
// go to an S3 bucket (AWS or any S3-compatible server), history keeps references.
//
//	# worker (runs until interrupted)
//	s3worker -mode worker -temporal temporal.internal:7233 -bucket my-blobs
//	# starter: runs one workflow with a 100 MiB input and prints the result
//	s3worker -mode start -temporal temporal.internal:7233 -bucket my-blobs -size 100MiB
//
// Credentials and region come from the standard AWS chain (AWS_ACCESS_KEY_ID, profiles,
// instance roles, AWS_REGION). Every flag has an environment variable, shown by -help.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/s3store"
)

type settings struct {
	mode      string // worker, start, both
	temporal  string
	namespace string
	taskQueue string
	bucket    string
	prefix    string
	endpoint  string
	region    string
	pathStyle bool
	size      int
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "s3worker:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "s3worker:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (settings, error) {
	fs := flag.NewFlagSet("s3worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var cfg settings
	var size string
	fs.StringVar(&cfg.mode, "mode", env("S3WORKER_MODE", "both"),
		"worker (serve until interrupted), start (run one workflow) or both [$S3WORKER_MODE]")
	fs.StringVar(&cfg.temporal, "temporal", env("TEMPORAL_ADDRESS", client.DefaultHostPort), "Temporal frontend host:port [$TEMPORAL_ADDRESS]")
	fs.StringVar(&cfg.namespace, "namespace", env("TEMPORAL_NAMESPACE", "default"),
		"Temporal namespace, also part of every blob key [$TEMPORAL_NAMESPACE]")
	fs.StringVar(&cfg.taskQueue, "task-queue", env("S3WORKER_TASK_QUEUE", "longhaul-s3worker"), "task queue [$S3WORKER_TASK_QUEUE]")
	fs.StringVar(&cfg.bucket, "bucket", env("LONGHAUL_S3_BUCKET", ""), "S3 bucket for offloaded payloads (required) [$LONGHAUL_S3_BUCKET]")
	fs.StringVar(&cfg.prefix, "prefix", env("LONGHAUL_S3_PREFIX", "longhaul"), "key prefix in the bucket [$LONGHAUL_S3_PREFIX]")
	fs.StringVar(&cfg.endpoint, "endpoint", env("AWS_ENDPOINT_URL_S3", ""),
		"S3 endpoint URL for S3-compatible servers; empty = AWS [$AWS_ENDPOINT_URL_S3]")
	fs.StringVar(&cfg.region, "region", env("AWS_REGION", "us-east-1"), "S3 region [$AWS_REGION]")
	fs.BoolVar(&cfg.pathStyle, "path-style", env("LONGHAUL_S3_PATH_STYLE", "") == "true",
		"path-style addressing (most S3-compatible servers) [$LONGHAUL_S3_PATH_STYLE=true]")
	fs.StringVar(&size, "size", env("S3WORKER_SIZE", "100MiB"),
		"size of the workflow's input and of the activity's result, in start mode [$S3WORKER_SIZE]")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case cfg.mode != "worker" && cfg.mode != "start" && cfg.mode != "both":
		return cfg, fmt.Errorf("-mode %q: want worker, start or both", cfg.mode)
	case cfg.bucket == "":
		return cfg, errors.New("-bucket (or LONGHAUL_S3_BUCKET) is required")
	}
	n, err := parseSize(size)
	if err != nil {
		return cfg, err
	}
	cfg.size = n
	return cfg, nil
}

func run(ctx context.Context, out io.Writer, cfg settings) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(cfg.region))
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.endpoint)
		}
		o.UsePathStyle = cfg.pathStyle
	})
	store, err := s3store.New(s3c, cfg.bucket, s3store.Options{Prefix: cfg.prefix, Logger: logger})
	if err != nil {
		return err
	}
	c, err := codec.New(store, codec.Options{Namespace: cfg.namespace, Logger: logger})
	if err != nil {
		return err
	}
	cl, err := client.DialContext(ctx, client.Options{
		HostPort:      cfg.temporal,
		Namespace:     cfg.namespace,
		DataConverter: codec.NewDataConverter(c, nil),
		Logger:        tlog.NewStructuredLogger(logger),
	})
	if err != nil {
		return fmt.Errorf("dial temporal %s: %w", cfg.temporal, err)
	}
	defer cl.Close()

	if cfg.mode == "worker" || cfg.mode == "both" {
		w := worker.New(cl, cfg.taskQueue, worker.Options{})
		w.RegisterWorkflow(SnapshotWorkflow)
		w.RegisterActivity(ChecksumActivity)
		if err := w.Start(); err != nil {
			return err
		}
		defer w.Stop()
		fmt.Fprintf(out, "worker on task queue %s, blobs in s3://%s/%s\n", cfg.taskQueue, cfg.bucket, cfg.prefix)
		if cfg.mode == "worker" {
			<-ctx.Done()
			return ctx.Err()
		}
	}

	input := make([]byte, cfg.size)
	r := rand.NewChaCha8([32]byte{byte(time.Now().UnixNano())})
	_, _ = r.Read(input)
	start := time.Now()
	run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		TaskQueue:           cfg.taskQueue,
		WorkflowTaskTimeout: time.Minute, // uploads of large activity inputs happen in workflow tasks
	}, SnapshotWorkflow, input)
	if err != nil {
		return fmt.Errorf("start workflow: %w", err)
	}
	var res SnapshotResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("workflow %s: %w", run.GetID(), err)
	}
	if want := digest(input); res.InputSHA256 != want || res.ActivitySHA256 != want {
		return fmt.Errorf("workflow %s: digests %s / %s, want %s", run.GetID(), res.InputSHA256, res.ActivitySHA256, want)
	}
	st := c.Stats()
	fmt.Fprintf(out, "workflow %s: %d-byte input verified by workflow and activity in %s; %d blobs (%d bytes) stored, %d dedupe hits\n",
		run.GetID(), len(input), time.Since(start).Round(time.Millisecond), st.BlobsStored, st.BytesStored, st.DedupeHits)
	return nil
}

// SnapshotResult is what SnapshotWorkflow returns.
type SnapshotResult struct {
	InputSHA256    string
	ActivitySHA256 string
}

// SnapshotWorkflow hands its large input to an activity, which checksums it.
func SnapshotWorkflow(ctx workflow.Context, snapshot []byte) (SnapshotResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Minute})
	var sum string
	if err := workflow.ExecuteActivity(ctx, ChecksumActivity, snapshot).Get(ctx, &sum); err != nil {
		return SnapshotResult{}, err
	}
	return SnapshotResult{InputSHA256: digest(snapshot), ActivitySHA256: sum}, nil
}

// ChecksumActivity returns the SHA-256 of its input.
func ChecksumActivity(ctx context.Context, snapshot []byte) (string, error) {
	activity.GetLogger(ctx).Info("checksumming", "bytes", len(snapshot))
	return digest(snapshot), nil
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// parseSize reads -size: digits, then nothing, B, KiB, MiB or GiB.
func parseSize(s string) (int, error) {
	digits := strings.TrimRightFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit, ok := map[string]int64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[s[len(digits):]]
	n, err := strconv.ParseInt(digits, 10, 64)
	if !ok || err != nil || n <= 0 || n > (4<<30)/unit {
		return 0, fmt.Errorf("-size %q: want a positive size up to 4GiB, e.g. 50MiB", s)
	}
	return int(n * unit), nil
}
