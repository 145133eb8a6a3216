package drivertest

import (
	"context"
	"io"
	"math/rand/v2"
	"path"
	"testing"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/internal/contenthash"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// WorkflowRun describes one round trip of Workflow.
type WorkflowRun struct {
	Dev   *testenv.DevServer
	Store driver.Store
	// Name returns the name of the object that holds key (the driver's ObjectName).
	Name func(key string) (string, error)
	// List returns the names of the objects under the store's prefix.
	List      func(t testing.TB, ctx context.Context) []string
	TaskQueue string
	Size      int
	Seed      byte // of the random payload
}

// Workflow sends Size random bytes through testenv.EchoWorkflow with the store behind
// the codec: workflow input -> activity input -> activity result -> workflow result.
// History holds only references; the store holds one object under its prefix (the
// payload deduplicated, nothing left behind), named by the key the reference gives, and
// its bytes hash to its name and hold the reference's size. It returns the reference,
// the key and the object's name, for the driver's own checks of the object.
func Workflow(t *testing.T, ctx context.Context, run WorkflowRun) (ref codec.Reference, key, object string) {
	t.Helper()
	// Random bytes do not compress; NoCompression stores the serialized payload.
	c, err := codec.New(run.Store, codec.Options{Namespace: run.Dev.Namespace, Compression: codec.NoCompression})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]byte, run.Size)
	rand.NewChaCha8([32]byte{run.Seed}).Read(in)
	ref, err = codec.ParseReference(testenv.Echo(t, ctx, run.Dev, codec.NewDataConverter(c, nil), run.TaskQueue, in))
	if err != nil {
		t.Fatalf("workflow input in history is not a reference: %v", err)
	}
	objects := run.List(t, ctx)
	if len(objects) != 1 {
		t.Fatalf("store holds %v under its prefix, want 1 object (the payload deduplicated, nothing left behind)", objects)
	}
	object = objects[0]
	key, err = ref.Key(run.Dev.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := run.Name(key); object != want {
		t.Errorf("object %s, but history references %s", object, want)
	}
	// The blob's bytes hash to its name, and hold the reference's size.
	r, err := run.Store.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	_, alg, _, err := driver.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	h, err := contenthash.New(alg)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(h, r)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum := contenthash.Hex(h); sum != path.Base(object) || n != ref.Size {
		t.Errorf("stored blob: %d bytes with %s %s; want %d bytes, %s = its name %s", n, alg, sum, ref.Size, alg, object)
	}
	t.Logf("codec stats: %+v", c.Stats())
	return ref, key, object
}
