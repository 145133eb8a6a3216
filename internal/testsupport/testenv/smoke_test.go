package testenv_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

func greet(ctx workflow.Context, name string) (string, error) {
	return "hello " + name, nil
}

// TestSmokeTemporal completes a trivial workflow on the real dev server through the SDK.
func TestSmokeTemporal(t *testing.T) {
	srv := testenv.Temporal(t, testenv.DevServerOptions{})
	c := srv.Client(t, client.Options{})

	w := worker.New(c, "smoke", worker.Options{})
	w.RegisterWorkflow(greet)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: "smoke"}, greet, "longhaul")
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if got != "hello longhaul" {
		t.Fatalf("workflow result = %q, want %q", got, "hello longhaul")
	}
}

// TestSmokeS3 round-trips an object through versitygw with aws-sdk-go-v2 (path-style,
// custom endpoint), and checks a missing key is NoSuchKey.
func TestSmokeS3(t *testing.T) {
	srv := testenv.S3(t, testenv.S3Options{})
	c := srv.NewClient()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	body := bytes.Repeat([]byte("longhaul smoke "), 1<<14)
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(srv.Bucket), Key: aws.String("smoke/object"), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(srv.Bucket), Key: aws.String("smoke/object")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("got %d bytes back, want %d identical bytes", len(got), len(body))
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(srv.Bucket), Key: aws.String("smoke/missing")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Fatalf("get missing key: err = %v, want NoSuchKey", err)
	}
	if !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint %q is not loopback", srv.Endpoint)
	}
}

// TestRequireToolFailsInCI shows the CI switch: with CI=true a missing tool fails instead
// of skipping.
func TestRequireToolFailsInCI(t *testing.T) {
	t.Setenv("LONGHAUL_NOPE", "/nonexistent/tool")
	t.Setenv("CI", "true")
	ft := &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		testenv.RequireTool(ft, "nope", "v0", "LONGHAUL_NOPE")
	}()
	if !ft.fatal || ft.skipped {
		t.Fatalf("with CI=true: fatal=%v skipped=%v, want fatal", ft.fatal, ft.skipped)
	}
	t.Setenv("CI", "")
	ft = &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		testenv.RequireTool(ft, "nope", "v0", "LONGHAUL_NOPE")
	}()
	if !ft.skipped || ft.fatal {
		t.Fatalf("without CI: fatal=%v skipped=%v, want skipped", ft.fatal, ft.skipped)
	}
}

type fakeTB struct {
	testing.TB
	fatal, skipped bool
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(string, ...any) {
	f.fatal = true
	panic("fatal")
}
func (f *fakeTB) Skipf(string, ...any) {
	f.skipped = true
	panic("skip")
}
