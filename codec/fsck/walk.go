package fsck

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"golang.org/x/sync/errgroup"

	"github.com/seed-a62fcf0e/longhaul/codec"
)

// walker is one walk: the state, and the blobs seen so far.
type walker struct {
	tc      Temporal
	opts    Options
	mu      sync.Mutex // guards st, blobs and the Progress callback
	st      *State
	blobs   map[string]*blobEntry
	sem     chan struct{}
	pending sync.WaitGroup // blob checks in flight
	// ctx is the walk's: blob checks outlive the page (and its errgroup) that found them.
	ctx context.Context
	// codec parses references and checks their bytes: the codec's one door and path.
	codec *codec.Codec
}

// blobEntry is a blob being checked or checked: each is checked once.
type blobEntry struct {
	done bool
	bad  bool
	// occ holds the references seen while the check runs.
	occ []Occurrence
}

func newWalker(tc Temporal, opts Options) (*walker, error) {
	c, err := codec.New(opts.Store, codec.Options{
		Namespace: opts.Namespace, Readers: opts.Readers, CacheBytes: -1, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	return &walker{tc: tc, opts: opts, st: opts.State, blobs: map[string]*blobEntry{},
		sem: make(chan struct{}, opts.BlobConcurrency), codec: c}, nil
}

// run walks page after page, saving the state after each.
func (w *walker) run(ctx context.Context) error {
	w.ctx = ctx
	skipping := w.opts.ResumeFrom != ""
	for !w.st.Done {
		resp, err := w.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: w.opts.Namespace, PageSize: int32(w.opts.PageSize), NextPageToken: w.st.NextPageToken, Query: w.opts.Query,
		})
		if err != nil {
			return fmt.Errorf("fsck: list workflows of %s: %w", w.opts.Namespace, err)
		}
		execs := resp.GetExecutions()
		if skipping {
			i := slices.IndexFunc(execs, func(e *workflowpb.WorkflowExecutionInfo) bool {
				return e.GetExecution().GetWorkflowId() == w.opts.ResumeFrom
			})
			if i >= 0 {
				skipping, execs = false, execs[i:]
			} else {
				execs = nil
			}
		}
		err = w.page(ctx, execs)
		w.pending.Wait()
		if err != nil {
			return err
		}
		w.mu.Lock()
		w.st.NextPageToken = resp.GetNextPageToken()
		w.st.Done = len(w.st.NextPageToken) == 0
		if len(execs) > 0 {
			w.st.LastWorkflowID = execs[len(execs)-1].GetExecution().GetWorkflowId()
		}
		w.mu.Unlock()
		if w.opts.StatePath != "" {
			if err := w.st.Save(w.opts.StatePath); err != nil {
				return err
			}
		}
	}
	if skipping {
		return fmt.Errorf("fsck: workflow %q (--resume-from) is not in the listing", w.opts.ResumeFrom)
	}
	return nil
}

// page walks the histories of one page of workflows, Concurrency at a time.
func (w *walker) page(ctx context.Context, execs []*workflowpb.WorkflowExecutionInfo) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.opts.Concurrency)
	for _, e := range execs {
		id, run := e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId()
		g.Go(func() error {
			err := w.history(gctx, id, run)
			if err != nil && gctx.Err() != nil {
				return gctx.Err()
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			if err != nil {
				w.st.Errors = append(w.st.Errors, fmt.Sprintf("workflow %s run %s: %v", id, run, err))
			}
			w.st.Workflows++
			w.progress()
			return nil
		})
	}
	return g.Wait()
}

// history finds the references in one run's history.
func (w *walker) history(ctx context.Context, id, run string) error {
	it := w.tc.GetWorkflowHistory(ctx, id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return fmt.Errorf("history: %w", err)
		}
		w.mu.Lock()
		w.st.Events++
		w.mu.Unlock()
		err = proxy.VisitPayloads(ctx, ev, proxy.VisitPayloadsOptions{
			SkipSearchAttributes: true,
			Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
				for _, p := range ps {
					w.found(p, Occurrence{WorkflowID: id, RunID: run, EventID: ev.GetEventId(), EventType: eventType(ev)})
				}
				return ps, nil
			},
		})
		if err != nil {
			return fmt.Errorf("event %d: %w", ev.GetEventId(), err)
		}
	}
	return nil
}

func eventType(ev *historypb.HistoryEvent) string {
	return ev.GetEventType().String()
}

// found records a payload that may be a reference and starts its blob's check the
// first time the blob is seen.
func (w *walker) found(p *commonpb.Payload, at Occurrence) {
	r, ok, perr := parseRef(w.codec, p)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.st.References++
	if prob := w.st.Problems[r.id]; prob != nil {
		prob.Occurrences = append(prob.Occurrences, at)
		return
	}
	if perr != nil {
		w.st.Problems[r.id] = &Problem{Key: r.key, Kind: r.kind, Status: StatusInvalid, Detail: perr.Error(), Occurrences: []Occurrence{at}}
		return
	}
	e := w.blobs[r.id]
	switch {
	case e == nil:
		e = &blobEntry{occ: []Occurrence{at}}
		w.blobs[r.id] = e
		w.st.Blobs++
		w.pending.Add(1)
		go w.check(w.ctx, r, e)
	case !e.done:
		e.occ = append(e.occ, at)
	}
}

// check checks one blob, BlobConcurrency at a time, and turns a bad one into a Problem
// with the references seen meanwhile.
func (w *walker) check(ctx context.Context, r blobRef, e *blobEntry) {
	defer w.pending.Done()
	var status, detail string
	select {
	case w.sem <- struct{}{}:
		status, detail = checkBlob(ctx, w.codec, r, w.opts.Verify)
		<-w.sem
	case <-ctx.Done():
		status, detail = StatusError, ctx.Err().Error()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	e.done, e.bad = true, status != ""
	if e.bad {
		w.st.Problems[r.id] = &Problem{Key: r.key, Kind: r.kind, Status: status, Detail: detail, Occurrences: e.occ}
	}
	e.occ = nil
}

// progress reports the counts; w.mu is held.
func (w *walker) progress() {
	if w.opts.Progress == nil {
		return
	}
	w.opts.Progress(Progress{Workflows: w.st.Workflows, Events: w.st.Events, References: w.st.References,
		Blobs: w.st.Blobs, Problems: len(w.st.Problems)})
}
