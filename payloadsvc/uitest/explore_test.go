package uitest

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testenv"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
)

type Input struct {
	Marker string   `json:"marker"`
	Rows   []string `json:"rows"`
}

func Echo(ctx workflow.Context, in Input) (int, error) { return len(in.Rows), nil }

func TestExplore(t *testing.T) {
	port, _ := testenv.FreePort()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	srv := testenv.Temporal(t, testenv.DevServerOptions{UICodecEndpoint: "http://127.0.0.1:" + strconv.Itoa(port) + "/codec"})
	store := memstore.New()
	h, err := payloadsvc.NewHandler(store, payloadsvc.Options{CORSOrigins: []string{srv.UIAddress}, PreviewBytes: 8 << 20,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h}
	go hs.Serve(ln)
	defer hs.Close()
	cd, _ := codec.New(store, codec.Options{})
	c := srv.Client(t, client.Options{DataConverter: codec.NewDataConverter(cd, nil)})
	w := worker.New(c, "tq", worker.Options{})
	w.RegisterWorkflow(Echo)
	w.Start()
	defer w.Stop()
	in := Input{Marker: "MARKER-1234-abcd"}
	for i := 0; len(in.Rows) < 3<<20/64; i++ {
		in.Rows = append(in.Rows, strings.Repeat(strconv.Itoa(i%10), 60))
	}
	ctx := context.Background()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "explore-wf", TaskQueue: "tq"}, Echo, in)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := run.Get(ctx, &n); err != nil {
		t.Fatal(err)
	}
	url := srv.UIAddress + "/namespaces/default/workflows/explore-wf/" + run.GetRunID() + "/history"
	cfg, _ := json.Marshal(map[string]any{"url": url, "want": []string{"MARKER-1234-abcd"}, "screenshot": "/tmp/uitest-explore.png", "timeoutMs": 30000, "executablePath": "/usr/bin/chromium"})
	pw, _ := filepath.Glob(filepath.Join(testenv.ToolsDir(), "playwright-core-*"))
	cmd := exec.Command("node", "browse.mjs", string(cfg))
	cmd.Env = append(os.Environ(), "NODE_PATH="+pw[0]+"/node_modules")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	t.Logf("err=%v\n%s", err, out[:min(len(out), 20000)])
	time.Sleep(0)
}
