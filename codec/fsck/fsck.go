// Package fsck finds the workflows whose histories reference a blob that is missing or
// corrupt. It walks the histories of the workflows a visibility query lists (open and
// retained closed ones), finds every reference the codec reads (longhaul references,
// codec/extstore claims, and foreign references when Options.Readers are given), and
// checks each distinct blob once: that it exists with the reference's length, and with
// Options.Verify that its bytes hash to the reference's digest, streaming. Each problem
// lists every workflow run and event that references the blob.
//
// The walk is resumable: the State after every page of workflows can be saved
// (Options.StatePath) and given back (Options.State), and Options.ResumeFrom starts at
// a workflow id.
package fsck

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// Temporal is the part of client.Client a walk uses.
type Temporal interface {
	ListWorkflow(ctx context.Context,
		req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	GetWorkflowHistory(ctx context.Context, workflowID, runID string, isLongPoll bool,
		filterType enumspb.HistoryEventFilterType) client.HistoryEventIterator
}

// Defaults for Options fields left zero.
const (
	DefaultConcurrency     = 4
	DefaultBlobConcurrency = 8
	DefaultPageSize        = 100
)

// Options configures a walk.
type Options struct {
	// Namespace whose workflows are walked; longhaul references name blobs of it.
	Namespace string
	// Query is a visibility query (e.g. `WorkflowType = 'Ingest'`); "" lists every open
	// and retained workflow.
	Query string
	// Store holds the blobs.
	Store driver.Store
	// Readers parse and open foreign references (DataDog, Temporal's S3 driver); they are
	// checked through the codec's one path like the Store's blobs.
	Readers []codec.Reader
	// Verify hashes every blob's bytes, streaming (bounded memory).
	Verify bool
	// Concurrency bounds the histories read at once; BlobConcurrency the blobs checked
	// at once.
	Concurrency, BlobConcurrency int
	// PageSize is the visibility page size: the unit of resumption.
	PageSize int
	// State is a walk to continue (LoadState); nil starts afresh.
	State *State
	// StatePath, when set, receives the State after every page, atomically.
	StatePath string
	// ResumeFrom skips listed workflows until this workflow id (which is walked).
	ResumeFrom string
	// Progress, when set, is called after each workflow (from one goroutine at a time).
	Progress func(Progress)
}

// Progress counts a walk's work so far.
type Progress struct {
	Workflows, Events, References, Blobs, Problems int
}

// Occurrence is one place in history that references a blob.
type Occurrence struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	EventID    int64  `json:"eventId"`
	EventType  string `json:"eventType"`
}

// Problem is a blob that is missing, corrupt or unreadable, with every reference to it.
type Problem struct {
	Key         string       `json:"key"`
	Kind        string       `json:"kind"`
	Status      string       `json:"status"`
	Detail      string       `json:"detail"`
	Occurrences []Occurrence `json:"references"`
}

// Report is the result of a walk.
type Report struct {
	Namespace  string     `json:"namespace"`
	Query      string     `json:"query"`
	Verify     bool       `json:"verify"`
	Workflows  int        `json:"workflows"`
	Events     int        `json:"events"`
	References int        `json:"references"`
	Blobs      int        `json:"blobs"`
	Problems   []*Problem `json:"problems"`
	Errors     []string   `json:"errors,omitempty"`
}

// Run walks the workflows and checks the blobs they reference. It returns the report
// of the whole walk (a resumed walk's included); the error is set only when the walk
// could not go on (listing failed, the state could not be saved, ctx ended).
func Run(ctx context.Context, tc Temporal, opts Options) (*Report, error) {
	if err := validate(&opts); err != nil {
		return nil, err
	}
	w, err := newWalker(tc, opts)
	if err != nil {
		return nil, err
	}
	if err := w.run(ctx); err != nil {
		return w.report(), err
	}
	return w.report(), nil
}

func validate(opts *Options) error {
	switch {
	case opts.Store == nil:
		return errors.New("fsck: Options.Store is nil")
	case opts.Concurrency < 0 || opts.BlobConcurrency < 0 || opts.PageSize < 0:
		return fmt.Errorf("fsck: negative concurrency or page size")
	}
	if err := driver.ValidateNamespace(opts.Namespace); err != nil {
		return fmt.Errorf("fsck: %w", err)
	}
	opts.Concurrency = cmp.Or(opts.Concurrency, DefaultConcurrency)
	opts.BlobConcurrency = cmp.Or(opts.BlobConcurrency, DefaultBlobConcurrency)
	opts.PageSize = cmp.Or(opts.PageSize, DefaultPageSize)
	if opts.State == nil {
		opts.State = &State{Version: StateVersion}
	}
	if err := opts.State.matches(*opts); err != nil {
		return err
	}
	opts.State.Namespace, opts.State.Query, opts.State.Verify = opts.Namespace, opts.Query, opts.Verify
	if opts.State.Problems == nil {
		opts.State.Problems = map[string]*Problem{}
	}
	return nil
}

// report builds the Report from the state, problems sorted by key and their
// occurrences by workflow, run and event.
func (w *walker) report() *Report {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.st
	r := &Report{Namespace: st.Namespace, Query: st.Query, Verify: st.Verify, Workflows: st.Workflows,
		Events: st.Events, References: st.References, Blobs: st.Blobs, Errors: st.Errors, Problems: []*Problem{}}
	for _, p := range st.Problems {
		sort.Slice(p.Occurrences, func(i, j int) bool {
			a, b := p.Occurrences[i], p.Occurrences[j]
			return cmp.Or(cmp.Compare(a.WorkflowID, b.WorkflowID), cmp.Compare(a.RunID, b.RunID), cmp.Compare(a.EventID, b.EventID)) < 0
		})
		r.Problems = append(r.Problems, p)
	}
	sort.Slice(r.Problems, func(i, j int) bool { return r.Problems[i].Key < r.Problems[j].Key })
	return r
}
