package codec_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
)

// recorder is a codec.Tracer that keeps every operation it saw end, and marks the
// context it returns so a store can check that it got it.
type recorder struct {
	mu      sync.Mutex
	started int
	ops     []codec.Op
}

type recorderKey struct{}

func (r *recorder) StartOp(ctx context.Context, op *codec.Op) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started++
	return context.WithValue(ctx, recorderKey{}, op)
}

func (r *recorder) EndOp(ctx context.Context, op *codec.Op) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ctx.Value(recorderKey{}) != op {
		panic("EndOp without the context StartOp returned")
	}
	r.ops = append(r.ops, *op)
}

func (r *recorder) ended() []codec.Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started != len(r.ops) {
		panic("an operation started but never ended")
	}
	return append([]codec.Op(nil), r.ops...)
}

// ctxCheckStore fails a Put or Get whose context does not carry the recorder's mark.
type ctxCheckStore struct{ driver.Store }

var errNoOpContext = errors.New("store called without the tracer's context")

func (s ctxCheckStore) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	if ctx.Value(recorderKey{}) == nil {
		return false, errNoOpContext
	}
	return s.Store.Put(ctx, key, src, size)
}

func (s ctxCheckStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if ctx.Value(recorderKey{}) == nil {
		return nil, errNoOpContext
	}
	return s.Store.Get(ctx, key)
}

// TestTracerSeesStoreOperations: an offload, the same offload again (a dedupe hit), a
// fetch on a cache miss and a fetch of a missing blob each reach the Tracer once, with
// sizes, digest, compression, latency and error; the store runs with the context
// StartOp returned; cache hits and small payloads are no operations.
func TestTracerSeesStoreOperations(t *testing.T) {
	text := bytes.Repeat([]byte("row 1234, migrated\n"), 40_000)
	cases := []struct {
		name     string
		data     []byte
		wantComp codec.Compression
	}{
		{"random", randomBytes(600<<10, 3), "none"},
		{"text", text, "zstd"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			store := memstore.New()
			c := newCodec(t, ctxCheckStore{store}, codec.Options{Tracer: rec, CacheBytes: -1, Logger: slog.New(slog.DiscardHandler)})
			in := []*commonpb.Payload{payload(tc.data), payload([]byte("small"))}
			enc := roundTrip(t, c, in)
			if _, err := c.Encode(in); err != nil { // dedupe hit
				t.Fatal(err)
			}
			ops := rec.ended()
			if len(ops) != 3 {
				t.Fatalf("%d operations, want offload, fetch, offload: %+v", len(ops), ops)
			}
			ref, err := codec.ParseReference(enc[0])
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range []struct {
				kind   codec.OpKind
				dedupe bool
			}{{codec.OpOffload, false}, {codec.OpFetch, false}, {codec.OpOffload, true}} {
				op := ops[i]
				if op.Kind != want.kind || op.DedupeHit != want.dedupe || op.Err != nil {
					t.Errorf("op %d: %s dedupe %v err %v; want %s dedupe %v", i, op.Kind, op.DedupeHit, op.Err, want.kind, want.dedupe)
				}
				if op.Algorithm != "blake3" || op.Digest != ref.BLAKE3 || op.Bytes != ref.RawSize || op.StoredBytes != ref.Size ||
					op.Compression != tc.wantComp {
					t.Errorf("op %d: %s %s %d/%d %s; want blake3 %s %d/%d %s", i, op.Algorithm, op.Digest, op.Bytes, op.StoredBytes,
						op.Compression, ref.BLAKE3, ref.RawSize, ref.Size, tc.wantComp)
				}
				if op.StoreLatency <= 0 || op.Namespace != codec.DefaultNamespace || op.Store == "" {
					t.Errorf("op %d: latency %s, namespace %q, store %q", i, op.StoreLatency, op.Namespace, op.Store)
				}
			}
		})
	}
}

// TestTracerSeesErrors: a failed fetch ends its operation with the error the caller
// gets (errors.Is works on both).
func TestTracerSeesErrors(t *testing.T) {
	rec := &recorder{}
	c := newCodec(t, memstore.New(), codec.Options{Tracer: rec, CacheBytes: -1})
	ref := codec.Reference{V: 1, SHA256: digest([]byte("gone")), Size: 4, RawSize: 4, Compression: "none"}
	p, err := ref.Payload()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decode([]*commonpb.Payload{p}); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("decode: %v, want ErrNotFound", err)
	}
	ops := rec.ended()
	if len(ops) != 1 || ops[0].Kind != codec.OpFetch || !errors.Is(ops[0].Err, driver.ErrNotFound) || ops[0].Algorithm != "sha256" || ops[0].Digest != ref.SHA256 {
		t.Fatalf("ops %+v; want one fetch of %s ending in ErrNotFound", ops, ref.SHA256)
	}
}

// TestTracerScope: the operation carries what the SDK gave: the serialization context
// of a PayloadCodec or DataConverter, and the workflow context a DataConverter is bound
// to (here by the SDK's test environment, which binds it as a worker does).
func TestTracerScope(t *testing.T) {
	big := payload(randomBytes(256<<10+1, 5))
	sc := converter.ActivitySerializationContext{Namespace: "default", WorkflowID: "wf-1", ActivityType: "Copy"}
	t.Run("PayloadCodec", func(t *testing.T) {
		rec := &recorder{}
		c := newCodec(t, memstore.New(), codec.Options{Tracer: rec})
		if _, err := c.WithSerializationContext(sc).Encode([]*commonpb.Payload{big}); err != nil {
			t.Fatal(err)
		}
		if ops := rec.ended(); len(ops) != 1 || ops[0].Scope.Serialization != sc || ops[0].Scope.Workflow != nil {
			t.Fatalf("scope %+v; want serialization %+v only", ops, sc)
		}
	})
	t.Run("DataConverter in a workflow", func(t *testing.T) {
		rec := &recorder{}
		c := newCodec(t, memstore.New(), codec.Options{Tracer: rec, Logger: slog.New(slog.DiscardHandler)})
		var suite testsuite.WorkflowTestSuite
		env := suite.NewTestWorkflowEnvironment()
		env.SetDataConverter(codec.NewDataConverter(c, nil))
		env.RegisterWorkflowWithOptions(func(ctx workflow.Context) (int, error) {
			ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
			var n int
			err := workflow.ExecuteActivity(ctx, "Len", randomBytes(256<<10+1, 6)).Get(ctx, &n)
			return n, err
		}, workflow.RegisterOptions{Name: "Scoped"})
		env.RegisterActivityWithOptions(func(_ context.Context, b []byte) (int, error) { return len(b), nil },
			activity.RegisterOptions{Name: "Len"})
		env.ExecuteWorkflow("Scoped")
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		var inWorkflow int
		for _, op := range rec.ended() {
			if op.Kind == codec.OpOffload {
				if op.Scope.Workflow == nil {
					t.Errorf("offload of the activity input without its workflow context")
				}
				inWorkflow++
			}
		}
		if inWorkflow != 1 {
			t.Fatalf("%d offloads, want the activity input's", inWorkflow)
		}
	})
}

// TestTracerOffShares: without a Tracer a serialization context of the codec's own
// namespace returns the codec itself (nothing allocated); with one, a copy that
// carries the context.
func TestTracerOffShares(t *testing.T) {
	sc := converter.WorkflowSerializationContext{Namespace: codec.DefaultNamespace, WorkflowID: "w"}
	off := newCodec(t, memstore.New(), codec.Options{})
	if off.WithSerializationContext(sc) != converter.PayloadCodec(off) {
		t.Error("tracing off: want the codec itself")
	}
	on := newCodec(t, memstore.New(), codec.Options{Tracer: &recorder{}})
	if on.WithSerializationContext(sc) == converter.PayloadCodec(on) {
		t.Error("tracing on: want a copy carrying the context")
	}
}
