// Command benchreport is longhaul's performance acceptance report (`make bench`): in one
// run it measures SHA-256 and memcpy, then codec round trips (Encode+Decode, decode cache
// off, nothing deduplicated) through memstore, through payloadsvc's handler on loopback
// reached with blobclient (payloadsvc's BenchmarkServiceRoundTrip, run as a test binary
// so this command does not import payloadsvc) and through s3store on a loopback
// versitygw, against a plain S3 client as Temporal's S3 driver works, and prints each
// figure as a ratio to the SHA-256 and memcpy passes measured interleaved with it, next
// to issue 11's targets.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/memstore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/benchdata"
)

func main() {
	var (
		skipS3 = flag.Bool("skip-s3", false, "skip the versitygw cases (they need `make tools`)")
		quick  = flag.Bool("quick", false, "fewer iterations (a smoke run; figures are noisier)")
		strict = flag.Bool("strict", false, "exit 1 when a target is missed")
		only   = flag.String("only", "", "run only the cases whose name matches this regular expression")
		prof   = flag.String("cpuprofile", "", "write a CPU profile of the cases to this file")
		iters  = flag.Int("iters", 0, "run every case exactly this many times (for profiles)")
		unsig  = flag.Bool("s3-unsigned", false, "s3store's client sends UNSIGNED-PAYLOAD (an experiment)")
	)
	flag.Parse()
	var err error
	if selected, err = regexp.Compile(*only); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport: -only:", err)
		os.Exit(2)
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchreport:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "benchreport:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	r := &report{}
	s3Unsigned = *unsig
	if err = run(r, *skipS3, *quick, *iters); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(2)
	}
	r.print(os.Stdout)
	if *strict && r.missed > 0 {
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

var (
	// selected picks the cases to run (-only).
	selected *regexp.Regexp
	// s3Unsigned: -s3-unsigned.
	s3Unsigned bool
)

func run(r *report, skipS3, quick bool, iters int) error {
	local, remote := budgets(quick, iters)
	start := time.Now()
	r.header = fmt.Sprintf("%s, GOMAXPROCS %d, %s/%s, load average %s",
		time.Now().UTC().Format(time.RFC3339), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, loadavg())
	for _, n := range []int{16 << 20, 64 << 20} {
		sha, cp := reference(n, 7)
		r.refs = append(r.refs, fmt.Sprintf("SHA-256 %s: %.0f MB/s, memcpy %s: %.0f MB/s", sizeName(n), sha, sizeName(n), cp))
	}
	if r.allocs = smallAllocs(); r.allocs != [2]float64{} {
		r.missed++
	}
	ref := newRefs(16 << 20)
	for _, n := range localSizes {
		for _, kind := range localKinds {
			// BLAKE3 (the default): a verified round trip of random data faster than one
			// SHA-256 pass; the SHA256 setting holds the targets it had before BLAKE3.
			blake := atLeast(n >= 16<<20, 0.40)
			if kind == benchdata.Random && n >= 16<<20 {
				blake = 1.0
			}
			in := newInput(kind, n, 1)
			if err := r.measure(local, ref, blake, noTarget, memstoreCase(in, codec.BLAKE3)); err != nil {
				return err
			}
			if kind == benchdata.Random {
				if err := r.measure(local, ref, atLeast(n >= 16<<20, 0.40), noTarget, memstoreCase(in, codec.SHA256)); err != nil {
					return err
				}
			}
		}
	}
	if err := r.runService(local, ref); err != nil {
		return err
	}
	err := r.runS3(remote, ref, skipS3)
	r.elapsed = time.Since(start)
	return err
}

// The payload sizes and kinds of the memstore and payloadsvc cases.
var (
	localSizes = []int{1 << 20, 16 << 20, 64 << 20}
	localKinds = []string{benchdata.Random, benchdata.Text}
)

// budgets are the local and remote (versitygw) budgets for -quick and -iters.
func budgets(quick bool, iters int) (local, remote budget) {
	local = budget{minIters: 5, maxIters: 40, minTime: 1500 * time.Millisecond}
	remote = budget{minIters: 3, maxIters: 6, minTime: 3 * time.Second}
	if quick {
		local = budget{minIters: 2, maxIters: 3, minTime: 0}
		remote = budget{minIters: 1, maxIters: 1, minTime: 0}
	}
	if iters > 0 {
		local = budget{minIters: iters, maxIters: iters}
		remote = local
	}
	return local, remote
}

// runService measures the payloadsvc cases with payloadsvc's BenchmarkServiceRoundTrip,
// and for random data the loopback transfer alone, just after it.
func (r *report) runService(b budget, ref *refs) error {
	var sb *serviceBench
	if anySelected(localSizes, localKinds, serviceName) {
		dir, err := os.MkdirTemp("", "benchreport-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if sb, err = buildServiceBench(dir); err != nil {
			return err
		}
		r.notes = append(r.notes, "payloadsvc cases: payloadsvc's BenchmarkServiceRoundTrip/<size>/<kind>, -test.benchtime <iters>x")
	}
	xfer := startTransfer()
	defer xfer.close()
	for _, n := range localSizes {
		for _, kind := range localKinds {
			if err := r.serviceGroup(b, ref, sb, xfer, newInput(kind, n, 2)); err != nil {
				return err
			}
		}
	}
	return nil
}

// serviceGroup measures the payloadsvc case of in (sb is nil when -only selects none),
// and for random data the transfer alone after it, with a note comparing the two.
func (r *report) serviceGroup(b budget, ref *refs, sb *serviceBench, xfer *transferServer, in input) error {
	var svc, sha []result
	if name := serviceName(in.size, in.kind); sb != nil && selected.MatchString(name) {
		x, err := sb.run(in, serviceIters(b, in.size), "")
		if err != nil {
			return err
		}
		// BLAKE3 (the default): random data at 0.50x SHA-256 (#25).
		t := atLeast(in.size >= 16<<20, 0.30)
		if in.kind == benchdata.Random && in.size >= 16<<20 {
			t = 0.50
		}
		r.add(x, t)
		svc = append(svc, x)
	}
	if name := serviceName(in.size, in.kind) + " sha256"; sb != nil && in.kind == benchdata.Random && selected.MatchString(name) {
		x, err := sb.run(in, serviceIters(b, in.size), "SHA256")
		if err != nil {
			return err
		}
		r.add(x, atLeast(in.size >= 16<<20, 0.30)) // the SHA256 setting: no worse than before v2
		if len(svc) == 1 {
			r.compare(svc[0], x, 1.0)
		}
		sha = append(sha, x)
	}
	if in.kind != benchdata.Random {
		return nil
	}
	res, err := measure(b, ref, transferCase(xfer, in)) // the limit; measure drops it unless -only selects it
	if err != nil {
		return err
	}
	for _, x := range res {
		r.add(x, noTarget)
	}
	if len(res) == 1 && len(svc) == 1 {
		x := svc[0]
		r.notes = append(r.notes, fmt.Sprintf("payloadsvc %s random (BLAKE3): %.2fx SHA-256, %.0f%% of the transfer alone (%.2fx): "+
			"the three BLAKE3 passes cost %.2f SHA-256 passes of time over the transfer's", sizeName(in.size), x.vsSHA(),
			100*x.vsSHA()/res[0].vsSHA(), res[0].vsSHA(), 1/x.vsSHA()-1/res[0].vsSHA()))
	}
	if len(res) == 1 && len(sha) == 1 {
		r.notes = append(r.notes, serviceNote(in.size, sha[0], res[0]))
	}
	return nil
}

// serviceNote compares a payloadsvc round trip with the floor the transfer alone sets.
func serviceNote(n int, svc, xfer result) string {
	cores := runtime.GOMAXPROCS(0)
	svcX, limit := svc.vsSHA(), serviceBound(xfer.vsSHA(), xfer.cpuVsSHA(), cores)
	passes := 1 / svc.cpuVsSHA()
	return fmt.Sprintf("payloadsvc %s random sha256: %.2fx SHA-256 = %.0f%% of the floor of %.2fx here (the address pass, "+
		"then the two checks and "+
		"the transfer, %.2fx by wall, %.2fx by CPU, on %d cores never idle); its CPU per byte (%.1f SHA-256 passes; "+
		"the floor counts %.1f) allows at most %.2fx",
		sizeName(n), svcX, 100*svcX/limit, limit, xfer.vsSHA(), xfer.cpuVsSHA(), cores, passes, 3+1/xfer.cpuVsSHA(), cpuBound(passes, cores))
}

// runS3 measures the s3store cases against versitygw, and the baseline offloader.
func (r *report) runS3(b budget, ref *refs, skip bool) error {
	ctx := context.Background()
	s3sizes := []int{32 << 20, 200 << 20}
	if skip || !anyS3(s3sizes) {
		r.notes = append(r.notes, "s3 cases skipped")
		return nil
	}
	e, err := startS3(ctx, s3Unsigned)
	if err != nil {
		return fmt.Errorf("versitygw: %w (run `make tools`, or pass -skip-s3)", err)
	}
	defer e.close()
	for _, n := range s3sizes {
		text := newInput(benchdata.Text, n, 3)
		err := r.measure(b, ref, noTarget, 0.95,
			e.codecCase(ctx, s3Name(n, "text zstd"), text, codec.BLAKE3, codec.Zstd, true),
			e.codecCase(ctx, s3Name(n, "text none"), text, codec.BLAKE3, codec.NoCompression, false))
		if err != nil {
			return err
		}
	}
	for _, n := range s3sizes {
		random := newInput(benchdata.Random, n, 4)
		res, err := measure(b, ref,
			e.codecCase(ctx, s3Name(n, "random longhaul"), random, codec.BLAKE3, codec.Zstd, false),
			e.codecCase(ctx, s3Name(n, "random longhaul sha256"), random, codec.SHA256, codec.Zstd, false),
			e.baselineCase(ctx, s3Name(n, "random baseline"), random))
		if err != nil {
			return err
		}
		for _, x := range res {
			r.add(x, noTarget)
		}
		if len(res) == 3 {
			// BLAKE3 against the SHA256 setting: at most half the client CPU per byte
			// (twice the MB per CPU-second) and not slower; both against the baseline.
			r.compare(res[0], res[1], 1.0)
			r.compareCPU(res[0], res[1], 2.0)
			r.compare(res[0], res[2], 1.3)
			r.compare(res[1], res[2], 1.3)
		}
	}
	return nil
}

// anySelected reports whether -only selects a case name(size, kind) makes.
func anySelected(sizes []int, kinds []string, name func(int, string) string) bool {
	for _, n := range sizes {
		for _, k := range kinds {
			if selected.MatchString(name(n, k)) {
				return true
			}
		}
	}
	return false
}

func s3Name(n int, what string) string { return fmt.Sprintf("s3 %s %s", sizeName(n), what) }

// anyS3 reports whether -only selects an s3 case.
func anyS3(sizes []int) bool {
	return anySelected(sizes, []string{"text zstd", "text none", "random longhaul", "random longhaul sha256", "random baseline"}, s3Name)
}

// measure runs cases together and records them: each against t (a ratio to SHA-256),
// and, when both ran, the first against the second against cmp.
func (r *report) measure(b budget, ref *refs, t, cmp target, cases ...bench) error {
	res, err := measure(b, ref, cases...)
	if err != nil {
		return err
	}
	for _, x := range res {
		r.add(x, t)
	}
	if cmp != noTarget && len(res) == 2 {
		r.compare(res[0], res[1], cmp)
	}
	return nil
}

// smallAllocs reports the allocations of Encode and Decode of payloads under the
// threshold (which pass through): the target is 0.
func smallAllocs() [2]float64 {
	c, err := codec.New(memstore.New(), codec.Options{Logger: discard})
	if err != nil {
		panic(err)
	}
	in := []*commonpb.Payload{newPayload([]byte(`"small"`)), newPayload(make([]byte, 100<<10))}
	enc := testing.AllocsPerRun(100, func() { _, _ = c.Encode(in) })
	dec := testing.AllocsPerRun(100, func() { _, _ = c.Decode(in) })
	return [2]float64{enc, dec}
}

// target is a lower bound on a ratio to SHA-256 (or of two cases); zero means none.
type target float64

const noTarget target = 0

func atLeast(applies bool, v float64) target {
	if !applies {
		return noTarget
	}
	return target(v)
}

type row struct {
	res    result
	target target
}

type comparison struct {
	a, b   result
	target target
	cpu    bool // MB per CPU-second, not MB/s
}

// report collects the figures of one run.
type report struct {
	header  string
	refs    []string
	allocs  [2]float64
	rows    []row
	cmps    []comparison
	notes   []string
	missed  int
	elapsed time.Duration
}

func (r *report) add(res result, t target) {
	r.rows = append(r.rows, row{res, t})
	if t != noTarget && res.vsSHA() < float64(t) {
		r.missed++
	}
}

func (r *report) compare(a, b result, t target) {
	r.cmps = append(r.cmps, comparison{a: a, b: b, target: t})
	if a.mbps/b.mbps < float64(t) {
		r.missed++
	}
}

// compareCPU compares a and b by payload MB per CPU-second of this process: a target of
// 2 means a costs at most half b's CPU per byte.
func (r *report) compareCPU(a, b result, t target) {
	r.cmps = append(r.cmps, comparison{a: a, b: b, target: t, cpu: true})
	if a.cpuMBps/b.cpuMBps < float64(t) {
		r.missed++
	}
}

func verdict(got float64, t target) string {
	if t == noTarget {
		return ""
	}
	if got >= float64(t) {
		return fmt.Sprintf(">= %.2f ok", float64(t))
	}
	return fmt.Sprintf(">= %.2f MISSED", float64(t))
}

func (r *report) print(w *os.File) {
	fmt.Fprintf(w, "longhaul benchmark report: %s\n", r.header)
	for _, s := range r.refs {
		fmt.Fprintln(w, "  "+s)
	}
	fmt.Fprintln(w, "Round trip = Encode+Decode of one payload, decode cache off, a new blob each time;")
	fmt.Fprintln(w, "MB/s of payload bytes, median; xSHA and xmemcpy divide by SHA-256 of 16 MiB and memcpy of 64 MiB")
	fmt.Fprintln(w, "measured interleaved with the case. MB/CPU-s and xSHA CPU: the same per second of this process's")
	fmt.Fprintln(w, "CPU time (all threads; versitygw's not counted), steadier than wall time on a busy machine;")
	fmt.Fprintln(w, "server MB/CPU-s: per second of versitygw's CPU time (10 ms ticks). payloadsvc cases run in a test")
	fmt.Fprintln(w, "process of their own (codec, client and service in it), their reference passes and CPU time that")
	fmt.Fprintln(w, "process's; the loopback HTTP case after each is measured here, not interleaved with it.")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tMB/s\txSHA\txmemcpy\titers\ttarget xSHA\t\tMB/CPU-s\txSHA CPU\tserver MB/CPU-s\t")
	for _, x := range r.rows {
		srv := ""
		if x.res.serverMBps > 0 {
			srv = fmt.Sprintf("%.0f", x.res.serverMBps)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.3f\t%d\t%s\t\t%.0f\t%.2f\t%s\t\n", x.res.name, x.res.mbps, x.res.vsSHA(), x.res.vsMemcpy(),
			x.res.iters, verdict(x.res.vsSHA(), x.target), x.res.cpuMBps, x.res.cpuVsSHA(), srv)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "comparison (same run, interleaved)\tratio\ttarget\t")
	for _, c := range r.cmps {
		ratio, by := c.a.mbps/c.b.mbps, ""
		if c.cpu {
			ratio, by = c.a.cpuMBps/c.b.cpuMBps, " (MB per CPU-s)"
		}
		b := strings.TrimPrefix(c.b.name, commonPrefix(c.a.name, c.b.name))
		fmt.Fprintf(tw, "%s / %s%s\t%.2f\t%s\t\n", c.a.name, b, by, ratio, verdict(ratio, c.target))
	}
	tw.Flush()
	fmt.Fprintln(w)
	alloc := "ok"
	if r.allocs != [2]float64{} {
		alloc = "MISSED"
	}
	fmt.Fprintf(w, "small payloads (under the threshold): Encode %.0f allocs, Decode %.0f allocs (target 0: %s)\n",
		r.allocs[0], r.allocs[1], alloc)
	for _, n := range r.notes {
		fmt.Fprintln(w, n)
	}
	fmt.Fprintf(w, "targets missed: %d; took %s; load average at the end %s\n", r.missed, r.elapsed.Round(time.Second), loadavg())
}

func commonPrefix(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return a[:i]
}

// loadavg is the first three fields of /proc/loadavg: how busy the machine was.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
