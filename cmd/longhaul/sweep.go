package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/seed-a62fcf0e/longhaul/codec/sweep"
	"github.com/seed-a62fcf0e/longhaul/internal/bytesize"
	"github.com/seed-a62fcf0e/longhaul/internal/storeopen"
)

type sweepCmd struct {
	store     string
	olderThan time.Duration
	dryRun    bool
	output    string
}

func newSweepUploads() *cobra.Command {
	c := &sweepCmd{olderThan: 24 * time.Hour}
	cmd := &cobra.Command{
		Use:   "uploads --store URL [--older-than 24h] [--dry-run]",
		Short: "Remove the debris of uploads that never finished",
		Long: `Finds what uploads started more than --older-than ago and never finished left under the
store's prefix, and removes it:
  S3     incomplete multipart uploads (ListMultipartUploads, AbortMultipartUpload)
  GCS    part objects under the store's .uploads/ directory that were never composed
  Azure  uncommitted blocks of blob names that were never committed
S3 and Azure are listed under every key version's prefix: v1/ (SHA-256), v2/ (BLAKE3).
Committed blobs are never touched. --older-than must exceed the longest upload, so
that running uploads are left alone. With --dry-run nothing is changed.

Exit codes: 0 nothing found, or all of it freed; 1 debris found with --dry-run; 3 the
store could not be listed or something could not be freed.`,
		Example: `  longhaul sweep uploads --store s3://blobs/prod --older-than 24h --dry-run
  longhaul sweep uploads --store 'gs://blobs/prod' --older-than 2d
  longhaul sweep uploads --store 'azblob://blobs/prod?account=acme' -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.run(cmd.Context(), cmd.OutOrStdout()) },
	}
	f := cmd.Flags()
	f.StringVar(&c.store, "store", "", "store URL, as the payload service takes it (required)")
	f.Var(days{&c.olderThan}, "older-than", "leave uploads younger than this alone, e.g. 24h or 2d (default 24h)")
	f.BoolVar(&c.dryRun, "dry-run", false, "report what would be removed, remove nothing")
	outputFlag(cmd, &c.output)
	return cmd
}

func (c *sweepCmd) run(ctx context.Context, w io.Writer) error {
	if c.store == "" {
		return usageErr(fmt.Errorf("--store is required (e.g. --store s3://bucket/prefix)"))
	}
	if err := checkOutput(c.output); err != nil {
		return err
	}
	store, err := storeopen.Open(ctx, c.store)
	if err != nil {
		return usageErr(err)
	}
	sw, ok := store.(sweep.Sweeper)
	if !ok {
		return usageErr(fmt.Errorf("store %v leaves no upload debris to sweep (its writes are a rename or in memory)", store))
	}
	rep, sweepErr := sw.SweepUploads(ctx, c.olderThan, c.dryRun)
	if err := c.print(w, rep); err != nil {
		return err
	}
	switch {
	case sweepErr != nil:
		return &exitError{code: exitCannotTell, err: sweepErr}
	case c.dryRun && len(rep.Found) > 0:
		return errProblems
	}
	return nil
}

func (c *sweepCmd) print(w io.Writer, r sweep.Report) error {
	if c.output == "json" {
		return json.NewEncoder(w).Encode(r)
	}
	mode := ""
	if r.DryRun {
		mode = " (dry run: nothing removed)"
	}
	fmt.Fprintf(w, "store: %s; debris started before %s%s\n", r.Store, r.Before.Format(time.RFC3339), mode)
	for _, d := range r.Found {
		state := "left"
		if d.Freed {
			state = "freed"
		}
		id := ""
		if d.UploadID != "" {
			id = " upload " + d.UploadID
		}
		fmt.Fprintf(w, "%-5s %s %s%s started %s, %d parts, %s\n", state, d.Kind, d.Name, id,
			d.Started.UTC().Format(time.RFC3339), d.Parts, size(d.Bytes))
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	_, err := fmt.Fprintf(w, "found %d (%s), freed %d (%s); %d younger than %s left alone\n",
		len(r.Found), size(r.FoundBytes()), r.FreedCount(), size(r.FreedBytes()), r.Younger, days{&c.olderThan})
	return err
}

func size(n int64) string {
	if n < 0 {
		return "size unknown"
	}
	return bytesize.Format(n)
}
