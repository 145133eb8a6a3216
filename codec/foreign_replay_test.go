package codec_test

import (
	"context"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/extstore"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/datadog"
	"github.com/seed-a62fcf0e/longhaul/codec/foreign/temporals3"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// HoldWorkflow waits for a "go" signal, then returns the digest of its input: a worker
// that picks it up after the signal replays the history, input included.
func HoldWorkflow(ctx workflow.Context, data []byte) (string, error) {
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, nil)
	return digest(data), nil
}

// replayCase starts HoldWorkflow with input through starter, lets a first worker run its
// first task, stops it and empties the sticky cache, signals, and lets a second worker
// (made by newWorker, so nothing is cached) replay the history and finish. It returns
// the workflow id.
func replayCase(t *testing.T, starter client.Client, newWorker func(taskQueue string) worker.Worker, input []byte) string {
	t.Helper()
	return replayWorkflow(t, starter, newWorker, HoldWorkflow, input, digest(input))
}

// replayWorkflow is replayCase for any hold workflow wf (waits for "go", returns want).
func replayWorkflow(t *testing.T, starter client.Client, newWorker func(taskQueue string) worker.Worker, wf, input any, want string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tq := "replay-" + t.Name()
	w1 := newWorker(tq)
	w1.RegisterWorkflow(wf)
	if err := w1.Start(); err != nil {
		t.Fatal(err)
	}
	run, err := starter.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: tq, WorkflowTaskTimeout: time.Minute}, wf, input)
	if err != nil {
		t.Fatal(err)
	}
	waitForEvent(t, ctx, starter, run.GetID(), enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
	w1.Stop()
	worker.PurgeStickyWorkflowCache()

	w2 := newWorker(tq)
	w2.RegisterWorkflow(wf)
	if err := w2.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w2.Stop)
	if err := starter.SignalWorkflow(ctx, run.GetID(), "", "go", nil); err != nil {
		t.Fatal(err)
	}
	expectResult(t, ctx, run, want)
	return run.GetID()
}

// waitForEvent waits until the workflow's history has an event of type et.
func waitForEvent(t *testing.T, ctx context.Context, c client.Client, id string, et enumspb.EventType) {
	t.Helper()
	for {
		it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if ev.GetEventType() == et {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("workflow %s: no %s event: %v", id, et, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestDataDogReferencesReplay: a history whose input is a DataDog v2 reference (written
// by a client on the DataDog codec) is decoded by longhaul workers, also by one that
// replays it from scratch.
func TestDataDogReferencesReplay(t *testing.T) {
	srv := testenv.SharedTemporal(t)
	dd := testenv.StartDataDogService(t)
	starter := srv.Client(t, client.Options{DataConverter: converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), dd.Codec("default"))})
	input := gen(seed+20, 2*mib)
	var before int64
	newWorker := func(tq string) worker.Worker {
		before = dd.Gets()
		c := newCodec(t, memstore.New(), codec.Options{Readers: []codec.Reader{ddReader(t, datadog.Options{URL: dd.URL})}})
		cl := srv.Client(t, client.Options{DataConverter: codec.NewDataConverter(c, nil)})
		return worker.New(cl, tq, worker.Options{})
	}
	id := replayCase(t, starter, newWorker, input)
	if dd.Gets() == before {
		t.Fatal("the replaying worker did not fetch the DataDog blob")
	}
	ps, err := testenv.HistoryPayloads(context.Background(), starter, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) == 0 || string(ps[0].Payload.GetMetadata()["temporal.io/remote-codec"]) != "v2" {
		t.Fatal("the input in history is not a DataDog v2 reference")
	}
}

// TestTemporalS3ClaimsReplay: a history whose input was stored by Temporal's S3 driver
// (its documented object layout, on a real versitygw) is read by longhaul workers whose
// External Storage lists temporals3.Reader under the old driver's name next to the
// extstore Driver that stores new payloads; also by a worker replaying from scratch.
func TestTemporalS3ClaimsReplay(t *testing.T) {
	srv := testenv.SharedTemporal(t)
	s3srv := testenv.S3(t, testenv.S3Options{})
	writer := &testenv.TemporalS3Writer{Client: s3srv.NewClient(), Bucket: s3srv.Bucket}
	starter := srv.Client(t, client.Options{ExternalStorage: converter.ExternalStorage{Drivers: []converter.StorageDriver{writer}, PayloadSizeThreshold: 1 << 10}})
	gets := &testenv.CountingS3{Client: s3srv.NewClient()}
	var before int64
	newWorker := func(tq string) worker.Worker {
		before = gets.Gets()
		primary, err := extstore.New(memstore.New(), extstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		old, err := temporals3.New(temporals3.Options{Client: gets, Buckets: []string{s3srv.Bucket}})
		if err != nil {
			t.Fatal(err)
		}
		cl := srv.Client(t, client.Options{ExternalStorage: converter.ExternalStorage{
			Drivers: []converter.StorageDriver{primary, old}, DriverSelector: extstore.Always(primary),
		}})
		return worker.New(cl, tq, worker.Options{})
	}
	input := gen(seed+21, 2*mib)
	id := replayCase(t, starter, newWorker, input)
	if gets.Gets() == before {
		t.Fatal("the replaying worker did not read the S3 object")
	}
	ps, err := testenv.HistoryPayloads(context.Background(), starter, id, "")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := codec.ParseStorageReference(ps[0].Payload)
	if err != nil || ref.DriverName != "aws.s3driver" || !strings.HasPrefix(ref.ClaimData["key"], "v0/ns/default/wt/HoldWorkflow/wi/") {
		t.Fatalf("the input in history is not a Temporal S3 claim: %+v, %v", ref, err)
	}
}
