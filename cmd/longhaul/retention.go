package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seed-a62fcf0e/longhaul/codec/retention"
	"github.com/seed-a62fcf0e/longhaul/internal/storeopen"
)

// days is a duration flag that also takes days: "30d", "36h", "1d12h".
type days struct{ d *time.Duration }

func (d days) String() string {
	if d.d == nil || *d.d == 0 {
		return "0s"
	}
	return retention.Days(*d.d)
}

func (d days) Set(s string) error {
	v, err := parseDays(s)
	if err != nil {
		return err
	}
	*d.d = v
	return nil
}

func (days) Type() string { return "duration" }

// parseDays parses a Go duration with an optional leading whole-days part ("7d12h").
func parseDays(s string) (time.Duration, error) {
	var total time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q: want a duration like 30d, 36h or 1d12h", s)
		}
		total, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return total, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: want a duration like 30d, 36h or 1d12h", s)
	}
	return total + d, nil
}

type retentionCmd struct {
	conn
	store             string
	maxRun, retention time.Duration
	output            string
}

func newCheckRetention() *cobra.Command {
	c := &retentionCmd{}
	cmd := &cobra.Command{
		Use:   "retention --store URL [--namespace NS] [--max-run DURATION]",
		Short: "Check that the bucket's lifecycle rules cannot delete blobs in use",
		Long: `Reads the store's lifecycle configuration (S3 GetBucketLifecycleConfiguration, the GCS
bucket lifecycle; Azure keeps its policies where the Blob API cannot see them) and the
namespace's retention (DescribeNamespace), and compares them with the store's touch
interval. A blob may be needed from a workflow's start until its history is deleted, so
a safe expiry is at least

  max run + namespace retention + touch interval + 1 day margin

Verdicts (exit code): ok (0); would-delete-blobs-in-use, naming the rule, the prefix and
by how many days (1); no-expiry, storage grows forever (1); cannot-tell, with the reason
(3). Without --max-run, workflows are assumed to run at most 30 days.

Blobs live under one prefix per key version, v1/ (SHA-256) and v2/ (BLAKE3): each gets
its verdict, and the command's is the worst (rules on v1/ alone leave v2/ at no-expiry).`,
		Example: `  longhaul check retention --store s3://blobs/prod --namespace orders --max-run 14d
  longhaul check retention --store 'gs://blobs/prod' --retention 7d --max-run 30d -o json
  TEMPORAL_ADDRESS=temporal:7233 longhaul check retention --store azblob://blobs/prod?account=acme`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.run(cmd.Context(), cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&c.store, "store", "", "store URL, as the payload service takes it (required)")
	f.Var(days{&c.maxRun}, "max-run", "longest workflow run, e.g. 14d (default 30d)")
	f.Var(days{&c.retention}, "retention", "namespace retention to assume instead of asking Temporal, e.g. 7d")
	c.flags(f, true)
	outputFlag(cmd, &c.output)
	return cmd
}

func (c *retentionCmd) run(ctx context.Context, cmd *cobra.Command) error {
	if err := c.validate(cmd); err != nil {
		return err
	}
	store, err := storeopen.Open(ctx, c.store)
	if err != nil {
		return usageErr(err)
	}
	p := retention.Params{Namespace: c.namespace, Retention: c.retention, MaxRun: c.maxRun}
	if c.retention == 0 {
		p.Retention, err = c.namespaceRetention(ctx)
		if err != nil {
			p.RetentionUnknown = err.Error()
		}
	}
	rep := retention.Check(storeLifecycle(ctx, store), p)
	if err := c.print(cmd.OutOrStdout(), rep); err != nil {
		return err
	}
	switch rep.Verdict {
	case retention.OK:
		return nil
	case retention.CannotTell:
		return errCannotTell
	}
	return errProblems
}

func (c *retentionCmd) validate(cmd *cobra.Command) error {
	if err := applyEnv(cmd.Flags()); err != nil {
		return err
	}
	if c.store == "" {
		return usageErr(fmt.Errorf("--store is required (e.g. --store s3://bucket/prefix)"))
	}
	if _, err := c.tlsConfig(); err != nil {
		return err
	}
	return checkOutput(c.output)
}

func (c *retentionCmd) namespaceRetention(ctx context.Context) (time.Duration, error) {
	cl, err := c.dial(ctx)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	return retention.NamespaceRetention(ctx, cl.WorkflowService(), c.namespace)
}

// storeLifecycle reads the store's rules; a store without lifecycle rules, or one whose
// rules cannot be read, gives a Lifecycle whose Unknown says why.
func storeLifecycle(ctx context.Context, store any) retention.Lifecycle {
	src, ok := store.(retention.Source)
	if !ok {
		return retention.Lifecycle{Store: fmt.Sprint(store),
			Unknown: fmt.Sprintf("%v has no lifecycle rules to read: nothing but an operator's own job deletes its blobs", store)}
	}
	lc, err := src.Lifecycle(ctx)
	if err != nil {
		lc.Unknown = err.Error()
	}
	return lc
}

func (c *retentionCmd) print(w io.Writer, r retention.Report) error {
	if c.output == "json" {
		return json.NewEncoder(w).Encode(r)
	}
	assumed := ""
	if c.maxRun == 0 {
		assumed = " (assumed; set --max-run)"
	}
	fmt.Fprintf(w, "verdict:   %s\n", r.Verdict)
	fmt.Fprintf(w, "store:     %s, blobs under %s\n", r.Store, quoteAll(r.BlobPrefixes))
	fmt.Fprintf(w, "namespace: %s, retention %s\n", r.Namespace, retention.Days(r.Retention))
	fmt.Fprintf(w, "needed:    %d days = max run %s%s + retention %s + touch interval %s + margin %s\n",
		r.NeededDays, retention.Days(r.MaxRun), assumed, retention.Days(r.Retention), retention.Days(r.TouchAfter),
		retention.Days(retention.Margin))
	if r.Verdict == retention.CannotTell {
		_, err := fmt.Fprintf(w, "%s\n", r.Reason) // the same for every prefix, and no rule was judged
		return err
	}
	for _, p := range r.Prefixes {
		fmt.Fprintf(w, "prefix %q: %s\n", p.Prefix, p.Verdict)
		for _, f := range r.Findings {
			if f.Prefix == p.Prefix {
				fmt.Fprintf(w, "  rule %q (%s): %s: %s\n", f.Rule.ID, f.Rule.Detail, f.Effect, f.Why)
			}
		}
		if p.Verdict == retention.NoExpiry {
			fmt.Fprintf(w, "  %s\n", p.Reason) // OK and Unsafe: the rule lines above are the reason
		}
	}
	return nil
}

// quoteAll quotes each string and joins them with "and": `"a/v1/" and "a/v2/"`.
func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	if len(q) == 0 {
		return "(none)"
	}
	return strings.Join(q, " and ")
}
