package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/benchdata"
)

// budget bounds how long one case is measured: at least minIters round trips and
// minTime, at most maxIters.
type budget struct {
	minIters, maxIters int
	minTime            time.Duration
}

// result is one measured case: the payload size, the round-trip rate and the rates
// of SHA-256 and memcpy measured next to it (interleaved, so a neighbour's load hits
// all three alike).
type result struct {
	name        string
	size        int
	iters       int
	mbps        float64 // median payload MB/s
	sha, memcpy float64 // median MB/s of the reference passes interleaved with it
	// cpuMBps and cpuSHA are the same per second of this process's CPU time: less
	// sensitive to a busy machine than wall time, but blind to work in other processes
	// (versitygw) and to parallelism.
	cpuMBps, cpuSHA float64
	// serverMBps is payload MB per second of the server process's CPU time (0: none).
	serverMBps float64
}

func (r result) vsSHA() float64    { return r.mbps / r.sha }
func (r result) vsMemcpy() float64 { return r.mbps / r.memcpy }
func (r result) cpuVsSHA() float64 { return r.cpuMBps / r.cpuSHA }

// refs holds the buffers the reference passes run over.
type refs struct {
	src, dst []byte
	shaSize  int
}

// newRefs makes the reference buffers: SHA-256 runs over the first size bytes, memcpy
// copies 64 MiB (at least size), more than a CPU cache holds, so it measures memory.
func newRefs(size int) *refs {
	n := max(size, 64<<20)
	return &refs{src: benchdata.Make(benchdata.Random, n, 99), dst: make([]byte, n), shaSize: size}
}

// shaOnce hashes the reference buffer and returns MB/s of wall and of CPU time.
func (r *refs) shaOnce() (wall, cpu float64) {
	c0 := cpuTime()
	start := time.Now()
	sum := sha256.Sum256(r.src[:r.shaSize])
	el := time.Since(start)
	cel := cpuTime() - c0
	sink ^= sum[0]
	return mbps(r.shaSize, el), mbps(r.shaSize, cel)
}

// cpuTime is the CPU time this process has used (user and system, all threads).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memcpyOnce copies the reference buffer and returns MB/s.
func (r *refs) memcpyOnce() float64 {
	start := time.Now()
	copy(r.dst, r.src)
	el := time.Since(start)
	sink ^= r.dst[len(r.dst)/2]
	return mbps(len(r.src), el)
}

// sink keeps the reference passes from being optimized away.
var sink byte

func mbps(n int, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }

// bench is one case: run does the timed work of iteration i; setup and check, if not
// nil, run untimed before and after it.
type bench struct {
	name              string
	size              int
	setup, run, check func(i int) error
	// serverCPU, if set, reads the CPU time of a server process the case talks to;
	// serverTick is its resolution (a smaller reading counts as one tick).
	serverCPU  func() time.Duration
	serverTick time.Duration
}

// samples are the per-iteration figures of one case.
type samples struct {
	rates, shas, copies, cpuRates, cpuShas, serverRates []float64
}

func (s *samples) result(c bench) result {
	return result{name: c.name, size: c.size, iters: len(s.rates), mbps: median(s.rates), sha: median(s.shas),
		memcpy: median(s.copies), cpuMBps: median(s.cpuRates), cpuSHA: median(s.cpuShas), serverMBps: median(s.serverRates)}
}

// measure runs cases round-robin (so a neighbour's load hits those compared alike):
// each iteration of each case does a SHA-256 pass, a memcpy pass and one round trip,
// after a GC, until every case has met the budget (minTime counts per case).
func measure(b budget, ref *refs, cases ...bench) ([]result, error) {
	cases = slices.DeleteFunc(cases, func(c bench) bool { return !selected.MatchString(c.name) })
	if len(cases) == 0 {
		return nil, nil
	}
	// Each group starts from the same state whatever ran before (memory handed back to
	// the OS), then warms up untimed: connections, coders, and a heap grown to what the
	// round trip needs, as in a worker that moves such payloads all day.
	debug.FreeOSMemory()
	for _, c := range cases {
		if err := once(c, -1); err != nil {
			return nil, fmt.Errorf("%s: warm-up: %w", c.name, err)
		}
	}
	got := make([]samples, len(cases))
	start := time.Now()
	minTime := b.minTime * time.Duration(len(cases))
	for i := 0; i < b.maxIters && (i < b.minIters || time.Since(start) < minTime); i++ {
		for j, c := range cases {
			if err := iterate(c, i, ref, &got[j]); err != nil {
				return nil, err
			}
		}
	}
	out := make([]result, len(cases))
	for j, c := range cases {
		out[j] = got[j].result(c)
	}
	return out, nil
}

// iterate runs iteration i of c with its reference passes, adding the figures to s.
func iterate(c bench, i int, ref *refs, s *samples) error {
	if c.setup != nil {
		if err := c.setup(i); err != nil {
			return fmt.Errorf("%s: setup: %w", c.name, err)
		}
	}
	runtime.GC()
	sha, cpuSHA := ref.shaOnce()
	s.shas = append(s.shas, sha)
	s.cpuShas = append(s.cpuShas, cpuSHA)
	s.copies = append(s.copies, ref.memcpyOnce())
	var s0 time.Duration
	if c.serverCPU != nil {
		s0 = c.serverCPU()
	}
	c0 := cpuTime()
	t0 := time.Now()
	if err := c.run(i); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	s.rates = append(s.rates, mbps(c.size, time.Since(t0)))
	cpu := cpuTime() - c0
	if c.serverCPU != nil {
		server := max(c.serverCPU()-s0, c.serverTick)
		s.serverRates = append(s.serverRates, mbps(c.size, server))
	}
	s.cpuRates = append(s.cpuRates, mbps(c.size, cpu))
	if c.check != nil {
		if err := c.check(i); err != nil {
			return fmt.Errorf("%s: check: %w", c.name, err)
		}
	}
	return nil
}

// once runs one untimed iteration of c.
func once(c bench, i int) error {
	for _, f := range []func(int) error{c.setup, c.run, c.check} {
		if f != nil {
			if err := f(i); err != nil {
				return err
			}
		}
	}
	return nil
}

// reference measures SHA-256 and memcpy alone over size bytes (n passes each).
func reference(size, n int) (sha, cp float64) {
	r := &refs{src: benchdata.Make(benchdata.Random, size, 99), dst: make([]byte, size), shaSize: size}
	var shas, copies []float64
	for range n {
		sha, _ := r.shaOnce()
		shas = append(shas, sha)
		copies = append(copies, r.memcpyOnce())
	}
	return median(shas), median(copies)
}

func median(v []float64) float64 {
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

// procTick is the resolution of procCPU: Linux's USER_HZ clock tick.
const procTick = time.Second / 100

// procCPU returns the CPU time (user and system, all threads) of process pid, from
// /proc/pid/stat in clock ticks (procTick); 0 when it cannot be read.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count fields after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // utime, field 14
	st, _ := strconv.ParseInt(f[12], 10, 64) // stime, field 15
	return time.Duration(ut+st) * procTick
}
