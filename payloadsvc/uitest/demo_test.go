package uitest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// demoSize is the input of `make demo UI=1` (-size 50MiB): the test sees what a user sees.
const demoSize = 50 << 20

// demoLinkRE finds the workflow's history page in the demo's output.
var demoLinkRE = regexp.MustCompile(`http://127\.0\.0\.1:\d+/namespaces/default/workflows/\S+/history`)

// TestDemoUI runs the quickstart demo as `make demo UI=1` does (-ui: dev server with the
// web UI, the payload service as its codec endpoint), opens the link it prints in the
// browser, and checks that the page shows the 50 MiB input decoded by the payload
// service: a preview with its size, encoding, its first rows and a download link. Then
// Ctrl-C (SIGINT) stops the demo: it exits 0 and its UI and payload service are gone.
// The screenshot is the README's (examples/quickstart/ui.png).
func TestDemoUI(t *testing.T) {
	b := requireBrowser(t)
	cli := testenv.TemporalBin(t)

	bin := filepath.Join(t.TempDir(), "quickstart")
	build := exec.Command("go", "build", "-o", bin, "github.com/seed-a62fcf0e/longhaul/examples/quickstart")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build quickstart: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-ui", "-runs", "1", "-size", "50MiB", "-temporal-cli", cli, "-dir", t.TempDir())
	// Its own process group, holding the dev server too: a test that fails kills both.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr testenv.SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	var output testenv.SyncBuffer
	links := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			output.Write([]byte(sc.Text() + "\n"))
			if link := demoLinkRE.FindString(sc.Text()); link != "" {
				select {
				case links <- link:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})

	var link string
	select {
	case link = <-links:
	case err := <-exited:
		stopped = true
		t.Fatalf("the demo exited before printing a link: %v\nstdout:\n%s\nstderr:\n%s", err, output.String(), stderr.String())
	case <-time.After(4 * time.Minute):
		t.Fatalf("no link from the demo after 4 minutes\nstdout:\n%s\nstderr:\n%s", output.String(), stderr.String())
	}
	t.Logf("demo output:\n%s", output.String())

	// The UI renders the preview as pretty JSON; the input's rows start with {"id":
	// and hold "state":"active" (JSON-escaped inside the head string).
	want := []string{`"longhaulPreview"`, `"size": ` + strconv.Itoa(demoSize), `"encoding": "binary/plain"`,
		`\"state\":\"active\"`, `"download": "http://127.0.0.1:`}
	got := b.open(t, page{
		URL: link, Want: want, StopOn: []string{codecErrorBanner},
		Screenshot: screenshotPath(t), Timeout: pageTimeout,
	})
	if !got.Found {
		t.Fatalf("the page does not show the decoded input %q %s", want, got.describe())
	}
	if err := isPNG(got.Screenshot); err != nil {
		t.Errorf("screenshot %s: %v", got.Screenshot, err)
	}

	// Ctrl-C: a clean stop, and nothing left listening.
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	svc := regexp.MustCompile(`payload service on (http://\S+?)\s`).FindStringSubmatch(output.String())
	if svc == nil {
		t.Fatalf("the demo did not say where the payload service is:\n%s", output.String())
	}
	s, err := url.Parse(svc[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("after Ctrl-C the demo exited with %v\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("the demo still runs a minute after Ctrl-C\nstderr:\n%s", stderr.String())
	}
	for _, addr := range []string{u.Host, s.Host} {
		if err := refused(addr); err != nil {
			t.Errorf("after the demo stopped: %v", err)
		}
	}
	if !strings.Contains(output.String(), "stopping") {
		t.Errorf("the demo did not say it was stopping:\n%s", output.String())
	}
}

// refused reports an error unless a TCP connection to addr is refused.
func refused(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err == nil {
		c.Close()
		return errors.New(addr + " still accepts connections")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	return nil
}
