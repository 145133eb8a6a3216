package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// servicePkg holds BenchmarkServiceRoundTrip, which measures the payloadsvc cases in a
// process of its own: codec, blobclient and the service's handler together, as they were
// when this command measured them itself, without this command importing payloadsvc.
const servicePkg = "github.com/seed-a62fcf0e/longhaul/payloadsvc"

// serviceBench is payloadsvc's test binary, built once for all the payloadsvc cases.
type serviceBench struct {
	bin string
}

// buildServiceBench builds servicePkg's test binary into dir.
func buildServiceBench(dir string) (*serviceBench, error) {
	bin := filepath.Join(dir, "payloadsvc.test")
	out, err := exec.Command("go", "test", "-c", "-o", bin, servicePkg).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -c %s: %w\n%s", servicePkg, err, out)
	}
	return &serviceBench{bin: bin}, nil
}

// run measures the payloadsvc case of in with exactly iters round trips and returns its
// figures: the benchmark's medians, its reference passes interleaved as measure's are.
// hash "" is the codec's default (BLAKE3), "SHA256" BenchmarkServiceRoundTripSHA256.
func (s *serviceBench) run(in input, iters int, hash string) (result, error) {
	bench := "BenchmarkServiceRoundTrip" + hash
	pattern := fmt.Sprintf("^%s$/^%s$/^%s$", bench, sizeName(in.size), in.kind)
	cmd := exec.Command(s.bin, "-test.run", "^$", "-test.bench", pattern, "-test.benchtime", strconv.Itoa(iters)+"x", "-test.count", "1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("%s %s: %w\n%s%s", serviceName(in.size, in.kind), hash, err, out, stderr.Bytes())
	}
	name := serviceName(in.size, in.kind)
	if hash != "" {
		name += " " + strings.ToLower(hash)
	}
	n, m, err := parseBenchLine(out, bench+"/"+sizeName(in.size)+"/"+in.kind)
	if err != nil {
		return result{}, fmt.Errorf("%s: %w\n%s", name, err, out)
	}
	res := result{name: name, size: in.size, iters: n, mbps: m["MB/s"], sha: m["sha-MB/s"],
		memcpy: m["memcpy-MB/s"], cpuMBps: m["cpu-MB/s"], cpuSHA: m["sha-cpu-MB/s"]}
	for _, v := range []float64{res.mbps, res.sha, res.memcpy, res.cpuMBps, res.cpuSHA} {
		if v <= 0 {
			return result{}, fmt.Errorf("%s: a metric is missing from the benchmark's line\n%s", res.name, out)
		}
	}
	return res, nil
}

// benchLine is a benchmark result line: name, -GOMAXPROCS suffix, iterations, then
// value-unit pairs.
var benchLine = regexp.MustCompile(`^(\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

// parseBenchLine finds the result line of benchmark name in go test output and returns
// its iteration count and metrics by unit.
func parseBenchLine(out []byte, name string) (int, map[string]float64, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := benchLine.FindStringSubmatch(sc.Text())
		if f == nil || f[1] != name {
			continue
		}
		n, _ := strconv.Atoi(f[2])
		pairs := strings.Fields(f[3])
		if len(pairs)%2 != 0 {
			return 0, nil, fmt.Errorf("benchmark line has an odd number of value-unit fields: %q", sc.Text())
		}
		m := make(map[string]float64, len(pairs)/2)
		for i := 0; i < len(pairs); i += 2 {
			v, err := strconv.ParseFloat(pairs[i], 64)
			if err != nil {
				return 0, nil, fmt.Errorf("benchmark line: %q is not a number", pairs[i])
			}
			m[pairs[i+1]] = v
		}
		return n, m, nil
	}
	return 0, nil, fmt.Errorf("no result line for %s", name)
}

// serviceIters is how many round trips a payloadsvc case runs: -iters and -quick give
// it; otherwise about what the local budget's 1.5 s gave the case when this command
// measured it in-process (18-22 at 1 MiB, 10-16 at 16 MiB, 5-7 at 64 MiB on 2 busy cores).
func serviceIters(b budget, size int) int {
	if b.minTime == 0 {
		return b.minIters
	}
	n := 20
	switch {
	case size >= 64<<20:
		n = 6
	case size >= 16<<20:
		n = 12
	}
	return min(max(n, b.minIters), b.maxIters)
}
