package payloadsvc

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// service is a handler under test behind a real loopback HTTP server.
type service struct {
	URL   string
	store driver.Store
	h     *handler
	logs  *testenv.SyncBuffer
	wire  *countingListener
}

// startService serves store (memstore when nil) with opts on a loopback httptest server.
func startService(t testing.TB, store driver.Store, opts Options) *service {
	t.Helper()
	if store == nil {
		store = memstore.New()
	}
	logs := &testenv.SyncBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	hh, err := NewHandler(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(hh)
	wire := &countingListener{Listener: srv.Listener}
	srv.Listener = wire
	srv.Start()
	t.Cleanup(srv.Close)
	return &service{URL: srv.URL, store: store, h: hh.(*handler), logs: logs, wire: wire}
}

// countingListener counts the bytes the server reads off the wire (n) and writes to it
// (out), on all connections.
type countingListener struct {
	net.Listener
	n, out atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &l.n, out: &l.out}, nil
}

type countingConn struct {
	net.Conn
	n, out *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// client returns a Client for the service with fast retries.
func (s *service) client(t testing.TB, opts blobclient.Options) *blobclient.Client {
	t.Helper()
	if opts.Retry == (driver.RetryPolicy{}) {
		opts.Retry = driver.RetryPolicy{InitialInterval: 5 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsed: 5 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := blobclient.New(s.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// do sends one request to the service and returns the status, headers and body.
func (s *service) do(t testing.TB, method, path string, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	status, h, b, err := s.try(method, path, body, hdr)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, h, b
}

// try is do for goroutines: it returns the error instead of failing the test.
func (s *service) try(method, path string, body []byte, hdr map[string]string) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json") // what the UI and the SDK send
	}
	if method == http.MethodPut && len(body) > 0 {
		// What the Client sends: an early answer (413, 401) then arrives before the
		// body, instead of racing the close that follows it.
		req.Header.Set("Expect", "100-continue")
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read body: %w", err)
	}
	return resp.StatusCode, resp.Header, out, nil
}

// randomBlob returns n random bytes and their hex SHA-256.
func randomBlob(t testing.TB, n int) ([]byte, string) {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b, sha256Hex(b)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// bytesInFor reads the request-bytes counter of a route.
func (m *metrics) bytesInFor(route string) int64 {
	var out dto.Metric
	if err := m.bytesIn.WithLabelValues(route).Write(&out); err != nil {
		panic(err)
	}
	return int64(out.GetCounter().GetValue())
}

// short keeps failure messages readable when a body is megabytes long.
func short(b []byte) string {
	if len(b) > 300 {
		return fmt.Sprintf("%s... (%d bytes)", b[:300], len(b))
	}
	return string(b)
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }
