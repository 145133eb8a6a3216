package payloadsvc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/sha256chain"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/benchdata"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// BenchmarkBlobPut is the service's check of a PUT alone: a blobclient.Client uploads
// random bytes over loopback into a memstore (emptied before each PUT, so every PUT is
// read and verified), all in this process. Each iteration PUTs the data once per case,
// in turn, so a neighbour's load hits them alike:
//   - floor: no service, a bare HTTP handler that reads the body into one buffer (the
//     transfer alone);
//   - sha256: serial SHA-256 (a client that sends no chain);
//   - chain: SHA-256 with the codec's chain, verified on spare cores;
//   - blake3: BLAKE3 in batches hashed beside the reads, on all cores;
//   - inline: BLAKE3 as a busy service does it (no batch slot), each read hashed on the
//     request's goroutine.
//
// Metrics are medians over the iterations: {case}-MB/s (bytes per second of wall time),
// {case}-cpuMB/s (per second of this process's CPU time, client and service), and
// xFloor = blake3-MB/s / floor-MB/s.
func BenchmarkBlobPut(b *testing.B) {
	for _, n := range []int{16 << 20, 64 << 20} {
		data := benchdata.Make(benchdata.Random, n, 3)
		for _, reads := range []int{0, 32 << 10} {
			name := fmt.Sprintf("%dMiB/reads=%dKiB", n>>20, reads>>10)
			if reads == 0 {
				name = fmt.Sprintf("%dMiB/reads=any", n>>20)
			}
			b.Run(name, func(b *testing.B) { benchPut(b, data, reads) })
		}
	}
}

// putCase is one way of PUTting the benchmark's data.
type putCase struct {
	name      string
	store     *swappedStore
	client    *blobclient.Client
	key       string
	chain     sha256chain.Chain // sent when Interval > 0
	wall, cpu []float64         // MB/s per PUT
}

func benchPut(b *testing.B, data []byte, maxRead int) {
	_, chain := sha256chain.Sum([][]byte{data}, sha256chain.IntervalFor(int64(len(data))))
	cases := []*putCase{{name: "floor"}, {name: "sha256"}, {name: "chain", chain: chain}, {name: "blake3"}, {name: "inline"}}
	for _, c := range cases {
		c.store = &swappedStore{Store: memstore.New(), maxRead: maxRead}
		c.client = benchTarget(b, c.name, c.store)
		alg, digest := driver.SHA256, sha256Hex(data)
		if c.name == "blake3" || c.name == "inline" {
			alg, digest = driver.BLAKE3, blake3Hex(data)
		}
		c.key, _ = driver.Key("default", alg, digest)
		c.put(b, data) // warm up: connections, buffers
	}
	for i := 0; b.Loop(); i++ {
		for j := range cases {
			c := cases[(i+j)%len(cases)]
			c0, t0 := benchCPU(), time.Now()
			c.put(b, data)
			el, cel := time.Since(t0), benchCPU()-c0
			c.wall = append(c.wall, float64(len(data))/1e6/el.Seconds())
			c.cpu = append(c.cpu, float64(len(data))/1e6/cel.Seconds())
		}
	}
	for _, c := range cases {
		b.ReportMetric(median(c.wall), c.name+"-MB/s")
		b.ReportMetric(median(c.cpu), c.name+"-cpuMB/s")
	}
	b.ReportMetric(median(cases[3].wall)/median(cases[0].wall), "xFloor")
}

// benchTarget is a Client of the service over store, configured for the case, or of a
// bare handler that reads each PUT's body into store.
func benchTarget(b *testing.B, name string, store *swappedStore) *blobclient.Client {
	if name != "floor" {
		svc := startService(b, store, Options{Logger: slog.New(slog.DiscardHandler)})
		if name == "inline" {
			svc.h.blobs.batches = nil
		}
		return svc.client(b, blobclient.Options{})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.URL.Path, "/v1/namespaces/default/blobs/sha256/")
		key, _ = driver.Key("default", driver.SHA256, key)
		if _, err := store.Put(r.Context(), key, r.Body, r.ContentLength); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	b.Cleanup(srv.Close)
	cl, err := blobclient.New(srv.URL, blobclient.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.CloseIdleConnections)
	return cl
}

// put uploads data under the case's key into an empty store.
func (c *putCase) put(b *testing.B, data []byte) {
	c.store.Store = memstore.New() // no request is in flight
	var src io.Reader = bytes.NewReader(data)
	if c.chain.Interval > 0 {
		src = chainedReader{Reader: bytes.NewReader(data), chain: c.chain}
	}
	if created, err := c.client.Put(context.Background(), c.key, src, int64(len(data))); err != nil || !created {
		b.Fatalf("%s: Put = %v, %v; want created", c.name, created, err)
	}
}

// chainedReader is a Put source that offers its SHA-256 chain, as the codec's does.
type chainedReader struct {
	*bytes.Reader
	chain sha256chain.Chain
}

func (r chainedReader) SHA256Chain() (int64, [][]byte) { return r.chain.Interval, r.chain.States }

// swappedStore is a Store replaced between PUTs, while no request is served; with
// maxRead it reads a PUT's source at most that many bytes at a time, as a store copying
// through a buffer does (io.Copy: 32 KiB).
type swappedStore struct {
	driver.Store
	maxRead int
}

func (s *swappedStore) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	if s.maxRead > 0 {
		src = &cappedReader{r: src, max: s.maxRead}
	}
	return s.Store.Put(ctx, key, src, size)
}

type cappedReader struct {
	r   io.Reader
	max int
}

func (c *cappedReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.max)]) }

// benchCPU is the CPU time this process has used (user and system, all threads).
func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
