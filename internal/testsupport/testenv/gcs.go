package testenv

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"
)

// FakeGCSVersion is the pinned fake-gcs-server; the Makefile installs exactly this.
const FakeGCSVersion = "v1.56.1"

// GCSOptions configures a fake-gcs-server. The zero value is fine.
type GCSOptions struct {
	// Bin is the fake-gcs-server binary; default: the pinned one from the tool cache.
	Bin string
	// Dir holds the filesystem backend and the log; default: a new temporary directory.
	Dir string
	// Bucket is created at start; default "longhaul-test".
	Bucket string
	// ReadyTimeout bounds the wait for the server; default 30s.
	ReadyTimeout time.Duration
}

// GCSServer is a running fake-gcs-server (JSON API over plain HTTP, filesystem backend).
type GCSServer struct {
	// Endpoint is http://127.0.0.1:port.
	Endpoint string
	Bucket   string
	emulator

	opts GCSOptions
}

// StartGCS starts fake-gcs-server on a random loopback port and creates the bucket.
func StartGCS(ctx context.Context, opts GCSOptions) (*GCSServer, error) {
	bin, err := binOr(opts.Bin, toolFinder("fake-gcs-server", FakeGCSVersion, "LONGHAUL_FAKE_GCS"))
	if err != nil {
		return nil, err
	}
	opts.Bin, opts.Bucket, opts.ReadyTimeout = bin, cmp.Or(opts.Bucket, "longhaul-test"), cmp.Or(opts.ReadyTimeout, 30*time.Second)
	s := &GCSServer{opts: opts, Bucket: opts.Bucket}
	err = s.startOnFreePort(opts.Dir, "longhaul-gcs-", "fake-gcs-server.log", nil,
		func(port int) error { return s.start(ctx, port) })
	if err != nil {
		return nil, err
	}
	c, err := s.NewClient(ctx)
	if err == nil {
		err = c.Bucket(s.Bucket).Create(ctx, "longhaul-test", nil)
		c.Close()
	}
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("testenv: create bucket %s: %w", s.Bucket, err)
	}
	return s, nil
}

func (s *GCSServer) start(ctx context.Context, port int) error {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s.Endpoint = "http://" + addr
	proc, err := startProcess("fake-gcs-server", s.LogPath, nil, s.opts.Bin,
		"-scheme", "http", "-host", "127.0.0.1", "-port", strconv.Itoa(port),
		"-public-host", addr, "-external-url", s.Endpoint,
		"-backend", "filesystem", "-filesystem-root", filepath.Join(s.dir.path, "root"),
		"-log-level", "warn")
	if err != nil {
		return err
	}
	s.proc = proc
	err = waitFor(ctx, proc, s.opts.ReadyTimeout, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/storage/v1/b", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	})
	if err != nil {
		proc.stop(5 * time.Second)
	}
	return err
}

// NewClient returns a storage client for the server, without authentication.
func (s *GCSServer) NewClient(ctx context.Context, opts ...option.ClientOption) (*storage.Client, error) {
	return s.NewClientFor(ctx, s.Endpoint, opts...)
}

// NewClientFor is NewClient against another endpoint, e.g. a fault-injecting proxy in
// front of the server. Reads use the JSON API, which the emulator serves at the same
// endpoint.
func (s *GCSServer) NewClientFor(ctx context.Context, endpoint string, opts ...option.ClientOption) (*storage.Client, error) {
	base := []option.ClientOption{
		option.WithEndpoint(endpoint + "/storage/v1/"),
		option.WithoutAuthentication(),
		storage.WithJSONReads(),
	}
	return storage.NewClient(ctx, append(base, opts...)...)
}

// GCS starts a fake-gcs-server for one test and stops it in t.Cleanup; its log is
// printed when the test fails. A missing binary skips the test (fails it when CI=true).
func GCS(t testing.TB, opts GCSOptions) *GCSServer {
	t.Helper()
	testOptions(t, &opts.Bin, &opts.Dir, func(t testing.TB) string {
		return RequireTool(t, "fake-gcs-server", FakeGCSVersion, "LONGHAUL_FAKE_GCS")
	})
	s, err := StartGCS(context.Background(), opts)
	return forTest(t, "fake-gcs-server", s, err)
}
