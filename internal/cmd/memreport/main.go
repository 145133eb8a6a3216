// Command memreport measures what one round trip of a large payload through the codec
// and a filestore costs in memory: for each kind of payload, in a fresh child process,
// it generates the payload, resets the kernel's peak-RSS mark, runs Encode then Decode
// (decode cache off) and reports the peak RSS growth (VmHWM minus the RSS after the
// payload was generated) and the bytes allocated, each per payload byte. Issue 11's
// targets: growth <= 1.25x for random data, <= 1.5x for text.
//
//	go run ./internal/memreport [-size 256] [-o codec/testdata/memreport.txt]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/seed-a62fcf0e/longhaul/codec"
	"github.com/seed-a62fcf0e/longhaul/codec/filestore"
	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/benchdata"
)

// childEnv names the case a child process runs.
const childEnv = "LONGHAUL_MEMREPORT_CASE"

// targets are the growth limits per payload byte.
var targets = map[string]float64{benchdata.Random: 1.25, benchdata.Text: 1.5}

// measurement is what a child reports.
type measurement struct {
	Kind        string  `json:"kind"`
	Size        int     `json:"size"`
	Compression string  `json:"compression"`
	StoredBytes int64   `json:"storedBytes"`
	BaseRSS     int64   `json:"baseRSS"`
	PeakRSS     int64   `json:"peakRSS"`
	Allocated   uint64  `json:"allocated"`
	Seconds     float64 `json:"seconds"`
	Growth      float64 `json:"growth"` // (PeakRSS-BaseRSS)/Size
}

func main() {
	size := flag.Int("size", 256, "payload size in MiB")
	out := flag.String("o", "", "also write the report to this file")
	flag.Parse()
	if kind := os.Getenv(childEnv); kind != "" {
		if err := child(kind, *size<<20); err != nil {
			fmt.Fprintln(os.Stderr, "memreport child:", err)
			os.Exit(1)
		}
		return
	}
	var ms []measurement
	for _, kind := range []string{benchdata.Random, benchdata.Text} {
		m, err := spawn(kind, *size)
		if err != nil {
			fmt.Fprintln(os.Stderr, "memreport:", err)
			os.Exit(1)
		}
		ms = append(ms, m)
	}
	var buf bytes.Buffer
	missed := write(&buf, ms)
	os.Stdout.Write(buf.Bytes())
	if *out != "" {
		if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "memreport:", err)
			os.Exit(1)
		}
	}
	_ = missed // the report says it; `make bench` goes on to print the rest
}

// spawn runs one case in a fresh process (this binary again) and reads its result.
func spawn(kind string, sizeMiB int) (measurement, error) {
	exe, err := os.Executable()
	if err != nil {
		return measurement{}, err
	}
	cmd := exec.Command(exe, "-size", strconv.Itoa(sizeMiB))
	cmd.Env = append(os.Environ(), childEnv+"="+kind)
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		return measurement{}, fmt.Errorf("case %s: %w", kind, err)
	}
	var m measurement
	if err := json.Unmarshal(outb, &m); err != nil {
		return measurement{}, fmt.Errorf("case %s: bad child output %q: %w", kind, outb, err)
	}
	return m, nil
}

func write(w io.Writer, ms []measurement) int {
	missed := 0
	fmt.Fprintf(w, "longhaul memory report: one round trip (Encode+Decode, decode cache off) through codec + filestore,\n")
	fmt.Fprintf(w, "one fresh process per case, %s/%s, GOMAXPROCS %d, default GOGC, no GOMEMLIMIT.\n",
		runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "growth = (VmHWM after the round trip - VmRSS after the payload was generated) / payload bytes\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "payload\tstored as\tpeak RSS growth\tper byte\tallocated per byte\ttime\ttarget\t")
	for _, m := range ms {
		t := targets[m.Kind]
		v := "ok"
		if m.Growth > t {
			v = "MISSED"
			missed++
		}
		fmt.Fprintf(tw, "%d MiB %s\t%s %d MiB\t%d MiB\t%.2fx\t%.2fx\t%.1fs\t<= %.2fx %s\t\n",
			m.Size>>20, m.Kind, m.Compression, m.StoredBytes>>20,
			(m.PeakRSS-m.BaseRSS)>>20, m.Growth, float64(m.Allocated)/float64(m.Size), m.Seconds, t, v)
	}
	tw.Flush()
	return missed
}

// child generates the payload, resets the peak-RSS mark and runs one round trip.
func child(kind string, size int) error {
	data := benchdata.Make(kind, size, 7)
	dir, err := os.MkdirTemp("", "longhaul-memreport-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store, err := filestore.New(dir)
	if err != nil {
		return err
	}
	c, err := codec.New(store, codec.Options{CacheBytes: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	in := []*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: data}}

	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("reset the peak RSS mark (Linux /proc/self/clear_refs): %w", err)
	}
	base, err := status("VmRSS")
	if err != nil {
		return err
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	enc, err := c.Encode(in)
	if err != nil {
		return err
	}
	dec, err := c.Decode(enc)
	if err != nil {
		return err
	}
	el := time.Since(start)
	peak, err := status("VmHWM")
	if err != nil {
		return err
	}
	runtime.ReadMemStats(&after)
	if !bytes.Equal(dec[0].Data, data) {
		return fmt.Errorf("decoded data differs")
	}
	ref, err := codec.ParseReference(enc[0])
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(measurement{
		Kind: kind, Size: size, Compression: string(ref.Compression), StoredBytes: ref.Size,
		BaseRSS: base, PeakRSS: peak, Allocated: after.TotalAlloc - before.TotalAlloc,
		Seconds: el.Seconds(), Growth: float64(peak-base) / float64(size),
	})
}

// status reads a "kB" field of /proc/self/status, in bytes.
func status(field string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/self/status has no %s", field)
}
