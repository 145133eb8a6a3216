package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/datadog"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/temporals3"
	"github.com/seed-a62fcf0e/longhaul/codec/fsck"
	"github.com/seed-a62fcf0e/longhaul/internal/storeopen"
)

type fsckCmd struct {
	conn
	store, query, statePath, resumeFrom, dataDogURL, output string
	s3Buckets                                               []string
	s3Endpoint, s3Region                                    string
	verify                                                  bool
	concurrency, blobConcurrency, pageSize                  int
}

func newFsck() *cobra.Command {
	c := &fsckCmd{}
	cmd := &cobra.Command{
		Use:   "fsck --store URL [--namespace NS] [--query QUERY] [--verify]",
		Short: "Find workflows that reference missing or corrupt blobs",
		Long: `Walks the histories of the open and retained workflows the query lists, finds every
reference the codec reads (longhaul references, extstore claims, DataDog references with
--datadog-url and Temporal S3 driver claims with --temporal-s3-bucket; those two are read
and verified in full), and checks each distinct blob once: that it exists with the
reference's length, and with --verify that its bytes hash to the reference's digest
(streamed: memory stays bounded whatever the blob's size). Each missing or corrupt blob
is reported with every workflow id, run id, event id and event type that references it.

Resuming: --state FILE is rewritten atomically after every page of workflows; run the
same command again after a kill and it continues from the page it was in, with the
problems found so far; a finished walk's state only reports again (remove the file to walk
anew). --resume-from WORKFLOW_ID starts at that workflow of the listing.

Exit codes: 0 every blob is good; 1 problems found; 3 a history or the store could not
be read.`,
		Example: `  longhaul fsck --store s3://blobs/prod --namespace orders
  longhaul fsck --store s3://blobs/prod -n orders --query "ExecutionStatus = 'Running'" --verify
  longhaul fsck --store gs://blobs/prod -n orders --state /var/tmp/fsck.json -o json
  longhaul fsck --store s3://blobs/prod -n orders --resume-from ingest-2026-11-30`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.run(cmd.Context(), cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&c.store, "store", "", "store URL holding the blobs, as the payload service takes it (required)")
	f.StringVarP(&c.query, "query", "q", "", "visibility query selecting the workflows (default: all open and retained)")
	f.BoolVar(&c.verify, "verify", false, "read every blob and check the digest its reference names (SHA-256 or BLAKE3; streaming)")
	f.StringVar(&c.statePath, "state", "", "state file to resume from and to write after every page")
	f.StringVar(&c.resumeFrom, "resume-from", "", "skip the listing up to this workflow id")
	f.StringVar(&c.dataDogURL, "datadog-url", "", "DataDog large-payload service URL: also check its references")
	f.StringSliceVar(&c.s3Buckets, "temporal-s3-bucket", nil,
		"bucket of Temporal's S3 External Storage driver: also check its claims (repeatable; AWS credentials from the default chain)")
	f.StringVar(&c.s3Endpoint, "temporal-s3-endpoint", "", "S3-compatible endpoint for --temporal-s3-bucket (path-style)")
	f.StringVar(&c.s3Region, "temporal-s3-region", "", "region for --temporal-s3-bucket (default: the AWS default chain's)")
	f.IntVar(&c.concurrency, "concurrency", fsck.DefaultConcurrency, "histories read at once")
	f.IntVar(&c.blobConcurrency, "blob-concurrency", fsck.DefaultBlobConcurrency, "blobs checked at once")
	f.IntVar(&c.pageSize, "page-size", fsck.DefaultPageSize, "workflows per visibility page (the unit of resumption)")
	c.flags(f, true)
	outputFlag(cmd, &c.output)
	return cmd
}

func (c *fsckCmd) run(ctx context.Context, cmd *cobra.Command) error {
	opts, err := c.options(ctx, cmd)
	if err != nil {
		return err
	}
	cl, err := c.dial(ctx)
	if err != nil {
		return &exitError{code: exitCannotTell, err: err}
	}
	defer cl.Close()
	prog := newProgress(cmd.ErrOrStderr(), c.total(ctx, cl.WorkflowService()))
	opts.Progress = prog.update
	rep, runErr := fsck.Run(ctx, cl, opts)
	prog.done()
	if rep != nil {
		if err := c.print(cmd.OutOrStdout(), rep); err != nil {
			return err
		}
	}
	switch {
	case runErr != nil:
		return &exitError{code: exitCannotTell, err: runErr}
	case len(rep.Problems) > 0:
		return errProblems
	case len(rep.Errors) > 0:
		return &exitError{code: exitCannotTell, err: fmt.Errorf("%d histories could not be read", len(rep.Errors))}
	}
	return nil
}

func (c *fsckCmd) options(ctx context.Context, cmd *cobra.Command) (fsck.Options, error) {
	if err := applyEnv(cmd.Flags()); err != nil {
		return fsck.Options{}, err
	}
	if c.store == "" {
		return fsck.Options{}, usageErr(fmt.Errorf("--store is required (e.g. --store s3://bucket/prefix)"))
	}
	if c.concurrency < 1 || c.blobConcurrency < 1 || c.pageSize < 1 {
		return fsck.Options{}, usageErr(fmt.Errorf("--concurrency, --blob-concurrency and --page-size must be at least 1"))
	}
	if err := checkOutput(c.output); err != nil {
		return fsck.Options{}, err
	}
	if _, err := c.tlsConfig(); err != nil {
		return fsck.Options{}, err
	}
	store, err := storeopen.Open(ctx, c.store)
	if err != nil {
		return fsck.Options{}, usageErr(err)
	}
	opts := fsck.Options{Namespace: c.namespace, Query: c.query, Store: store, Verify: c.verify,
		Concurrency: c.concurrency, BlobConcurrency: c.blobConcurrency, PageSize: c.pageSize,
		StatePath: c.statePath, ResumeFrom: c.resumeFrom}
	if c.dataDogURL != "" {
		r, err := datadog.NewReader(datadog.Options{URL: c.dataDogURL})
		if err != nil {
			return opts, usageErr(err)
		}
		opts.Readers = append(opts.Readers, r)
	}
	if len(c.s3Buckets) > 0 {
		r, err := temporalS3Reader(ctx, c.s3Buckets, c.s3Endpoint, c.s3Region)
		if err != nil {
			return opts, err
		}
		opts.Readers = append(opts.Readers, r)
	}
	if c.statePath != "" {
		if opts.State, err = fsck.LoadState(c.statePath); err != nil {
			return opts, usageErr(err)
		}
	}
	return opts, nil
}

// total counts the workflows to walk, for the progress bar; -1 when unknown.
func (c *fsckCmd) total(ctx context.Context, svc workflowservice.WorkflowServiceClient) int64 {
	resp, err := svc.CountWorkflowExecutions(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: c.namespace, Query: c.query})
	if err != nil {
		return -1
	}
	return resp.GetCount()
}

func (c *fsckCmd) print(w io.Writer, r *fsck.Report) error {
	if c.output == "json" {
		return json.NewEncoder(w).Encode(r)
	}
	verify := "existence and length"
	if r.Verify {
		verify = "existence, length and digest"
	}
	fmt.Fprintf(w, "namespace %s: %d workflows, %d events, %d references to %d blobs; checked %s\n",
		r.Namespace, r.Workflows, r.Events, r.References, r.Blobs, verify)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "%s %s (%s reference): %s\n", strings.ToUpper(p.Status), p.Key, p.Kind, p.Detail)
		for _, o := range p.Occurrences {
			fmt.Fprintf(w, "  workflow %s run %s event %d %s\n", o.WorkflowID, o.RunID, o.EventID, o.EventType)
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintln(w, "ERROR", e)
	}
	_, err := fmt.Fprintf(w, "%d problems, %d unreadable histories\n", len(r.Problems), len(r.Errors))
	return err
}

// temporalS3Reader reads the claims of Temporal's S3 driver from buckets.
func temporalS3Reader(ctx context.Context, buckets []string, endpoint, region string) (codec.Reader, error) {
	var loadOpts []func(*config.LoadOptions) error
	if region != "" {
		loadOpts = append(loadOpts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("--temporal-s3-bucket: aws config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // S3-compatible servers mostly ignore it; the SDK needs one
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint, o.UsePathStyle = aws.String(endpoint), true
		}
	})
	r, err := temporals3.New(temporals3.Options{Client: client, Buckets: buckets})
	if err != nil {
		return nil, usageErr(err)
	}
	return r, nil
}
