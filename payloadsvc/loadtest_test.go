//go:build loadtest

package payloadsvc

import (
	"bufio"
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/payloadsvc/blobclient"
)

// TestLoad runs the real binary over a file store on loopback and drives it with 100
// concurrent Clients for 20 s, half PUTs of new 1 MiB blobs and half GETs of blobs
// already put (verified), without retries, and reports requests/s, latency
// percentiles and the service's peak RSS (VmHWM). It is built only with the loadtest tag,
// so `make test` stays fast and never has to skip it:
//
//	go test -tags loadtest -run '^TestLoad$' -count=1 -v -timeout 5m ./payloadsvc/
//
// LONGHAUL_LOADTEST_CLIENTS and LONGHAUL_LOADTEST_DURATION change the shape.
func TestLoad(t *testing.T) {
	clients := envInt(t, "LONGHAUL_LOADTEST_CLIENTS", 100)
	duration := 20 * time.Second
	if v := os.Getenv("LONGHAUL_LOADTEST_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("LONGHAUL_LOADTEST_DURATION=%q: %v", v, err)
		}
		duration = d
	}
	const blobSize = 1 << 20

	dir := t.TempDir()
	bin := filepath.Join(dir, "payloadsvc")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/seed-a62fcf0e/longhaul/payloadsvc/cmd/payloadsvc").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	logPath := filepath.Join(dir, "payloadsvc.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	// The access log stays on (to a file), as in production.
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--store", "file://"+filepath.Join(dir, "store"),
		"--temp-dir", dir, "--max-blob-bytes", "2MiB")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	addr := waitListening(t, stderr, logFile)

	c, err := blobclient.New("http://"+addr, blobclient.Options{Retry: driver.RetryPolicy{MaxAttempts: -1}, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()

	type result struct {
		latencies []time.Duration
		puts      int
		gets      int
		errs      []error
	}
	results := make([]result, clients)
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res := &results[i]
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			buf := make([]byte, blobSize)
			_, _ = crand.Read(buf) // distinct blobs per client
			var keys []string
			for n := uint64(0); ctx.Err() == nil; n++ {
				var err error
				began := time.Now()
				if len(keys) == 0 || rng.IntN(2) == 0 {
					binary.LittleEndian.PutUint64(buf, n) // a new blob each time
					sum := sha256.Sum256(buf)
					key, _ := driver.Key("load", driver.SHA256, hex.EncodeToString(sum[:]))
					if _, err = c.Put(context.Background(), key, bytes.NewReader(buf), blobSize); err == nil {
						keys = append(keys, key)
						res.puts++
					}
				} else {
					key := keys[rng.IntN(len(keys))]
					err = getVerified(c, key)
					res.gets++
				}
				res.latencies = append(res.latencies, time.Since(began))
				if err != nil {
					res.errs = append(res.errs, err)
				}
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	hwm := procStatus(t, cmd.Process.Pid, "VmHWM")

	var all []time.Duration
	var puts, gets int
	var errs []error
	for _, r := range results {
		all = append(all, r.latencies...)
		puts += r.puts
		gets += r.gets
		errs = append(errs, r.errs...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[int(math.Ceil(p*float64(len(all))))-1] }
	t.Logf("load: %d clients, %s, 1 MiB blobs: %d requests (%d PUT, %d GET), %d errors", clients, elapsed.Round(time.Millisecond), len(all), puts, gets, len(errs))
	t.Logf("load: %.0f requests/s, %.0f MiB/s; latency p50 %s, p90 %s, p99 %s, max %s",
		float64(len(all))/elapsed.Seconds(), float64(len(all))*blobSize/(1<<20)/elapsed.Seconds(),
		pct(.50).Round(time.Millisecond), pct(.90).Round(time.Millisecond), pct(.99).Round(time.Millisecond), all[len(all)-1].Round(time.Millisecond))
	t.Logf("load: service peak RSS (VmHWM) %s", hwm)
	for i, err := range errs {
		if i == 5 {
			break
		}
		t.Errorf("request failed: %v", err)
	}
	if len(errs) > 0 {
		t.Fatalf("%d of %d requests failed, want 0", len(errs), len(all))
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("service exit after SIGTERM: %v\n%s", err, tailFile(logPath))
	}
}

func getVerified(c *blobclient.Client, key string) error {
	rc, err := c.Get(context.Background(), key)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return fmt.Errorf("get %s: read: %w", key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.HasSuffix(key, got) {
		return fmt.Errorf("get %s: body sha256 is %s", key, got)
	}
	return nil
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

var listenRE = regexp.MustCompile(`msg="payloadsvc: listening" addr=(\S+)`)

// waitListening copies the binary's log to w and returns the address it listens on.
func waitListening(t *testing.T, r io.Reader, w io.Writer) string {
	t.Helper()
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			fmt.Fprintln(w, sc.Text())
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
	}()
	select {
	case a := <-addrc:
		return a
	case <-time.After(30 * time.Second):
		t.Fatal("payloadsvc did not report its address within 30s")
		return ""
	}
}

// procStatus reads one field of /proc/PID/status, e.g. "VmHWM" (peak RSS).
func procStatus(t *testing.T, pid int, field string) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read /proc/%d/status: %v", pid, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return ""
}

func tailFile(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}
