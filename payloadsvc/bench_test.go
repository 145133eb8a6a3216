package payloadsvc_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/benchdata"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// BenchmarkServiceRoundTrip is the payloadsvc case of the benchmark report
// (internal/cmd/benchreport runs it as `go test -bench` and prints its figures): codec
// Encode+Decode of one payload, decode cache off, over blobclient -> HTTP on loopback ->
// NewHandler over a memstore, all in this process. Sub-benchmarks are size/kind
// ("16MiB/random"); the data is benchdata's with seed 2, as the report's.
//
// Each iteration, untimed: a fresh memstore behind the service (nothing deduplicates) and
// a new codec, a GC, then a SHA-256 pass over 16 MiB and a memcpy of 64 MiB (the
// report's reference passes, interleaved so a neighbour's load hits them alike); then
// the round trip, timed. The reported metrics are medians over the iterations:
// MB/s (payload bytes per second of wall time), sha-MB/s, memcpy-MB/s, cpu-MB/s and
// sha-cpu-MB/s (the same per second of this process's CPU time, all threads, so the
// service's share counts), and xSHA = MB/s / sha-MB/s.
func BenchmarkServiceRoundTrip(b *testing.B) {
	svc := startBenchService(b)
	refs := sync.OnceValue(func() *benchRefs { return newBenchRefs(16<<20, 64<<20) })
	for _, n := range []int{1 << 20, 16 << 20, 64 << 20} {
		b.Run(fmt.Sprintf("%dMiB", n>>20), func(b *testing.B) {
			for _, kind := range []string{benchdata.Random, benchdata.Text} {
				b.Run(kind, func(b *testing.B) { benchRoundTrip(b, svc, refs(), benchdata.Make(kind, n, 2)) })
			}
		})
	}
}

// BenchmarkServiceRoundTripSHA256 is BenchmarkServiceRoundTrip of random data with
// codec.Options.Hash SHA256 (references v1), for the report's SHA256 rows.
func BenchmarkServiceRoundTripSHA256(b *testing.B) {
	svc := startBenchService(b)
	refs := sync.OnceValue(func() *benchRefs { return newBenchRefs(16<<20, 64<<20) })
	for _, n := range []int{1 << 20, 16 << 20, 64 << 20} {
		b.Run(fmt.Sprintf("%dMiB/%s", n>>20, benchdata.Random), func(b *testing.B) {
			benchRoundTrip(b, svc, refs(), benchdata.Make(benchdata.Random, n, 2), codec.SHA256)
		})
	}
}

// benchRoundTrip measures round trips of data through svc, one per b.Loop iteration,
// with the codec's default hash or the one given.
func benchRoundTrip(b *testing.B, svc *benchService, ref *benchRefs, data []byte, hash ...codec.Hash) {
	p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}
	// Start from the same state whatever ran before, then warm up untimed: connections,
	// coders, and a heap grown to what the round trip needs.
	debug.FreeOSMemory()
	checkRoundTrip(b, svc.fresh(b, hash...), p)
	var s benchSamples
	for b.Loop() {
		b.StopTimer()
		c := svc.fresh(b, hash...)
		runtime.GC()
		s.refPasses(ref)
		b.StartTimer()
		el, cel := timedRoundTrip(b, c, p)
		b.StopTimer()
		s.rates = append(s.rates, benchMBps(len(data), el))
		s.cpuRates = append(s.cpuRates, benchMBps(len(data), cel))
		b.StartTimer()
	}
	s.report(b)
}

// BenchmarkServiceRoundTripHash is BenchmarkServiceRoundTrip for each codec.Options.Hash
// in the same run: each iteration makes one round trip with BLAKE3 (references v2) and
// one with SHA256 (v1), in turn, after the reference passes, so a neighbour's load hits
// them alike. Metrics, medians over the iterations: {hash}-MB/s and {hash}-cpuMB/s,
// sha-MB/s, {hash}-xSHA = {hash}-MB/s / sha-MB/s, and xSHA256 = blake3-MB/s /
// sha256-MB/s.
func BenchmarkServiceRoundTripHash(b *testing.B) {
	svc := startBenchService(b)
	refs := sync.OnceValue(func() *benchRefs { return newBenchRefs(16<<20, 64<<20) })
	for _, n := range []int{16 << 20, 64 << 20} {
		b.Run(fmt.Sprintf("%dMiB/%s", n>>20, benchdata.Random), func(b *testing.B) {
			benchRoundTripHashes(b, svc, refs(), benchdata.Make(benchdata.Random, n, 2))
		})
	}
}

func benchRoundTripHashes(b *testing.B, svc *benchService, ref *benchRefs, data []byte) {
	p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}
	hashes := []codec.Hash{codec.BLAKE3, codec.SHA256}
	debug.FreeOSMemory()
	for _, h := range hashes {
		checkRoundTrip(b, svc.fresh(b, h), p)
	}
	samples := make([]benchSamples, len(hashes))
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		samples[0].refPasses(ref)
		for j := range hashes {
			k := (i + j) % len(hashes)
			c := svc.fresh(b, hashes[k])
			runtime.GC()
			b.StartTimer()
			el, cel := timedRoundTrip(b, c, p)
			b.StopTimer()
			samples[k].rates = append(samples[k].rates, benchMBps(len(data), el))
			samples[k].cpuRates = append(samples[k].cpuRates, benchMBps(len(data), cel))
		}
		b.StartTimer()
	}
	sha := benchMedian(samples[0].shas)
	b.ReportMetric(sha, "sha-MB/s")
	for k, h := range hashes {
		b.ReportMetric(benchMedian(samples[k].rates), string(h)+"-MB/s")
		b.ReportMetric(benchMedian(samples[k].cpuRates), string(h)+"-cpuMB/s")
		b.ReportMetric(benchMedian(samples[k].rates)/sha, string(h)+"-xSHA")
	}
	b.ReportMetric(benchMedian(samples[0].rates)/benchMedian(samples[1].rates), "xSHA256")
}

// timedRoundTrip is one round trip of p through c: its wall and CPU time, the checks of
// what came back left out.
func timedRoundTrip(b *testing.B, c *codec.Codec, p *commonpb.Payload) (time.Duration, time.Duration) {
	c0, t0 := cpuTime(), time.Now()
	enc, err := c.Encode([]*commonpb.Payload{p})
	var dec []*commonpb.Payload
	if err == nil {
		dec, err = c.Decode(enc)
	}
	el, cel := time.Since(t0), cpuTime()-c0
	if err != nil {
		b.Fatalf("round trip: %v", err)
	}
	if !codec.IsReference(enc[0]) || !bytes.Equal(dec[0].Data, p.Data) {
		b.Fatal("the payload was not offloaded, or came back changed")
	}
	return el, cel
}

// checkRoundTrip is one untimed round trip of p through c.
func checkRoundTrip(b *testing.B, c *codec.Codec, p *commonpb.Payload) {
	enc, err := c.Encode([]*commonpb.Payload{p})
	if err != nil {
		b.Fatalf("encode: %v", err)
	}
	dec, err := c.Decode(enc)
	if err != nil {
		b.Fatalf("decode: %v", err)
	}
	if !codec.IsReference(enc[0]) || !bytes.Equal(dec[0].Data, p.Data) {
		b.Fatal("the payload was not offloaded, or came back changed")
	}
}

// benchService is NewHandler over a swapStore on a loopback listener, and a blobclient
// for it.
type benchService struct {
	store  *swapStore
	client *blobclient.Client
}

func startBenchService(b *testing.B) *benchService {
	discard := slog.New(slog.DiscardHandler)
	st := &swapStore{}
	st.reset()
	h, err := payloadsvc.NewHandler(st, payloadsvc.Options{Logger: discard})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	cl, err := blobclient.New(srv.URL, blobclient.Options{Logger: discard})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.CloseIdleConnections)
	return &benchService{store: st, client: cl}
}

// fresh empties the service's store and returns a new codec over the client, writing
// references by hash ("": the default).
func (s *benchService) fresh(b *testing.B, hash ...codec.Hash) *codec.Codec {
	s.store.reset()
	opts := codec.Options{CacheBytes: -1, Logger: slog.New(slog.DiscardHandler)}
	if len(hash) > 0 {
		opts.Hash = hash[0]
	}
	c, err := codec.New(s.client, opts)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// swapStore is a Store whose backing memstore is replaced between iterations, so the
// service behind a long-lived listener starts each round trip empty.
type swapStore struct {
	cur atomic.Pointer[memstore.Store]
}

func (s *swapStore) reset() { s.cur.Store(memstore.New()) }

func (s *swapStore) Put(ctx context.Context, key string, src io.Reader, size int64) (bool, error) {
	return s.cur.Load().Put(ctx, key, src, size)
}

func (s *swapStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.cur.Load().Get(ctx, key)
}

func (s *swapStore) Touch(ctx context.Context, key string) (driver.Info, error) {
	return s.cur.Load().Touch(ctx, key)
}

// benchRefs holds the buffers of the reference passes: SHA-256 over sha, memcpy of
// src (more than a CPU cache holds, so it measures memory) into dst.
type benchRefs struct {
	sha, src, dst []byte
}

func newBenchRefs(shaSize, copySize int) *benchRefs {
	src := benchdata.Make(benchdata.Random, max(shaSize, copySize), 99)
	return &benchRefs{sha: src[:shaSize], src: src, dst: make([]byte, len(src))}
}

// benchSink keeps the reference passes from being optimized away.
var benchSink byte

// benchSamples are the per-iteration figures of one benchmark, MB/s each.
type benchSamples struct {
	rates, cpuRates, shas, cpuShas, copies []float64
}

// refPasses runs one SHA-256 and one memcpy pass and records their rates.
func (s *benchSamples) refPasses(r *benchRefs) {
	c0, t0 := cpuTime(), time.Now()
	sum := sha256.Sum256(r.sha)
	el, cel := time.Since(t0), cpuTime()-c0
	s.shas = append(s.shas, benchMBps(len(r.sha), el))
	s.cpuShas = append(s.cpuShas, benchMBps(len(r.sha), cel))
	t0 = time.Now()
	copy(r.dst, r.src)
	s.copies = append(s.copies, benchMBps(len(r.src), time.Since(t0)))
	benchSink ^= sum[0] ^ r.dst[len(r.dst)/2]
}

func (s *benchSamples) report(b *testing.B) {
	mbps, sha := benchMedian(s.rates), benchMedian(s.shas)
	b.ReportMetric(mbps, "MB/s")
	b.ReportMetric(sha, "sha-MB/s")
	b.ReportMetric(benchMedian(s.copies), "memcpy-MB/s")
	b.ReportMetric(benchMedian(s.cpuRates), "cpu-MB/s")
	b.ReportMetric(benchMedian(s.cpuShas), "sha-cpu-MB/s")
	b.ReportMetric(mbps/sha, "xSHA")
}

// cpuTime is the CPU time this process has used (user and system, all threads).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchMBps(n int, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }

func benchMedian(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
