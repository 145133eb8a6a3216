package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"
)

// writeStallFlag is the flag that bounds how long the service waits on a client that
// stops reading its answer; the tests pass stallTimeout when the binary has it.
const (
	writeStallFlag = "--write-stall-timeout"
	stallTimeout   = "5s"
)

// stallArgs is writeStallFlag with stallTimeout when --help lists the flag, else nothing
// (logged): the tests then rely on the binary's default.
func stallArgs(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command(binary(t), "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v", err)
	}
	if !strings.Contains(string(out), writeStallFlag+"\n") {
		t.Logf("the binary has no %s flag: relying on its default write deadline", writeStallFlag)
		return nil
	}
	return []string{writeStallFlag, stallTimeout}
}

// stalledRequest sends raw (a whole HTTP/1.1 request) on a new connection with a tiny
// receive buffer and returns the connection, never reading from it beyond what the
// caller asks: the answer backs up into the server.
func stalledRequest(t *testing.T, p *proc, raw string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
	_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write([]byte(raw)); err != nil {
		t.Fatalf("send the stalled request: %v", err)
	}
	return c
}

// statusLine reads only the status code of the answer on c (a few KiB at most).
func statusLine(c net.Conn, d time.Duration) (int, error) {
	_ = c.SetReadDeadline(time.Now().Add(d))
	line, err := bufio.NewReaderSize(c, 64).ReadString('\n')
	if err != nil {
		return 0, err
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0, fmt.Errorf("status line %q", line)
	}
	return strconv.Atoi(f[1])
}

// previewLink decodes ref as a preview and returns the preview's download path and query.
func previewLink(t *testing.T, p *proc, ref []byte, hdr ...string) string {
	t.Helper()
	status, out := post(t, p, "/codec/default/decode", ref, append(hdr, "X-Longhaul-Preview", "1")...)
	if status != 200 {
		t.Fatalf("preview: %d %s", status, short(out))
	}
	var w struct {
		Preview struct {
			Download string `json:"download"`
		} `json:"longhaulPreview"`
	}
	if ps := decodedPayloads(t, out); len(ps) != 1 || json.Unmarshal(ps[0].GetData(), &w) != nil || w.Preview.Download == "" {
		t.Fatalf("preview answer without a download link: %s", short(out))
	}
	u, err := url.Parse(w.Preview.Download)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// TestDoorDownloadLinksAdmitted (issue 20, "signed download links bypass admission"):
// four GETs of one link for a 140 MiB payload, never read, under a 320 MiB budget: the
// ones that do not fit get 503, the admitted ones give their share back when the client
// stalls (a write deadline), so a reading client gets the payload within 30 s, and the
// service's RSS stays within the budget plus 64 MiB.
func TestDoorDownloadLinksAdmitted(t *testing.T) {
	const budget = 320 << 20
	dir := t.TempDir()
	p := startBounded(t, budget, nil, append([]string{"--store", "file://" + dir}, stallArgs(t)...)...)
	base := rssBaseline(t, p)
	raw := serialize(t, randomPayload(t, 140<<20))
	digest := putBlob(t, p, raw)
	want := sha256.Sum256(decodedData(t, raw))
	link := previewLink(t, p, payloadsBody(t, longhaulRef(t, digest, len(raw), len(raw), "none")))
	raw = nil
	previewPeak := procStatus(t, p, "VmHWM")
	t.Logf("PUT and preview of 140 MiB: RSS peak %d MiB, growth %d MiB", previewPeak>>20, (previewPeak-base)>>20)
	downloadBase := rssBaseline(t, p) // the downloads' own peak from here

	get := "GET " + link + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
	statuses := map[int]int{}
	for i := 0; i < 4; i++ {
		c := stalledRequest(t, p, get)
		status, err := statusLine(c, 30*time.Second)
		if err != nil {
			t.Fatalf("download %d: no status line: %v", i, err)
		}
		statuses[status]++
		healthzWithin(t, p, 5e9)
	}
	t.Logf("four unread downloads of 140 MiB under a 320 MiB budget: %v", statuses)
	if statuses[503] == 0 || statuses[200]+statuses[503] != 4 {
		t.Errorf("four unread downloads of 140 MiB under a 320 MiB budget: %v; want 200 for those that fit, 503 for the rest", statuses)
	}

	start := time.Now()
	waitFor(t, 30*time.Second, "a reading client's download to be admitted", func() bool {
		status, hdr, body := doorDo(t, p, "GET", link, nil)
		if status == 0 {
			t.FailNow()
		}
		if status == 503 && hdr.Get("Retry-After") != "" {
			time.Sleep(250 * time.Millisecond)
			return false
		}
		if status != 200 || sha256.Sum256(body) != want {
			t.Fatalf("download by a reading client: %d, %d bytes; want 200 and the payload", status, len(body))
		}
		return true
	})
	t.Logf("a reading client's download was admitted %s after the stalled ones", time.Since(start).Round(time.Millisecond))
	healthzWithin(t, p, 5e9)
	// The preview's 140 MiB are garbage by now but may still be resident (the runtime
	// collects after a large allocation, not before it): logged, not held against the
	// downloads, whose own growth is what the budget bounds.
	overall := max(previewPeak, procStatus(t, p, "VmHWM"))
	t.Logf("preview and downloads together: RSS baseline %d MiB, peak %d MiB, growth %d MiB", base>>20, overall>>20, (overall-base)>>20)
	checkGrowth(t, p, "four unread 140 MiB downloads (from after the preview)", downloadBase, budget+rssTarget)
}

// TestDoorStalledDecodeReleasesBudget (issue 20): a client that never reads the answer
// to its 24 MiB decode must not hold its share of a 64 MiB budget until the request
// timeout: another client's decode of the same reference succeeds within 30 s.
func TestDoorStalledDecodeReleasesBudget(t *testing.T) {
	p := startBounded(t, 64<<20, nil, stallArgs(t)...)
	raw := serialize(t, randomPayload(t, 24<<20))
	body := payloadsBody(t, longhaulRef(t, putBlob(t, p, raw), len(raw), len(raw), "none"))
	const head = "POST /codec/default/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
	stalledRequest(t, p, fmt.Sprintf(head, len(body), body))

	start := time.Now()
	refused := 0
	waitFor(t, 30*time.Second, "another client's decode to succeed beside a stalled one", func() bool {
		status, hdr, out := doorDo(t, p, "POST", "/codec/default/decode", body, jsonHdr...)
		switch {
		case status == 0:
			t.FailNow()
		case status == 503 && hdr.Get("Retry-After") != "":
			refused++
			time.Sleep(250 * time.Millisecond)
			return false
		case status != 200:
			t.Fatalf("decode beside a stalled client: %d %s", status, short(out))
		}
		return true
	})
	t.Logf("decode beside a stalled client succeeded after %s (%d answers 503 first)", time.Since(start).Round(time.Millisecond), refused)
	healthzWithin(t, p, 5e9)
}

// decodedData is the Data of a serialized payload.
func decodedData(t *testing.T, raw []byte) []byte {
	t.Helper()
	var p commonpb.Payload
	if err := proto.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	return p.GetData()
}
