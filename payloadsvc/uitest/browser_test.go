package uitest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/internal/testsupport/testenv"
)

// browser runs browse.mjs: node with playwright-core driving Debian's Chromium.
type browser struct {
	node       string
	chromium   string
	playwright string // holds node_modules/playwright-core
	script     string
}

// requireBrowser finds the tools, or skips the test (fails it when CI=true).
func requireBrowser(t *testing.T) *browser {
	t.Helper()
	b, err := findBrowser()
	if err != nil {
		err = fmt.Errorf("%w (run `make tools`)", err)
	}
	testenv.Require(t, err)
	return b
}

func findBrowser() (*browser, error) {
	var b browser
	var err error
	if b.node, err = exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("uitest: node not found: %w", err)
	}
	b.chromium = cmp.Or(os.Getenv("LONGHAUL_CHROMIUM"), "/usr/bin/chromium")
	if _, err := os.Stat(b.chromium); err != nil {
		return nil, fmt.Errorf("uitest: chromium: %w", err)
	}
	if b.playwright, err = playwrightDir(); err != nil {
		return nil, err
	}
	if b.script, err = filepath.Abs("browse.mjs"); err != nil {
		return nil, err
	}
	return &b, nil
}

// playwrightDir is $LONGHAUL_PLAYWRIGHT_DIR, else the newest playwright-core-<version>
// directory in the tool cache.
func playwrightDir() (string, error) {
	dir := os.Getenv("LONGHAUL_PLAYWRIGHT_DIR")
	if dir == "" {
		dirs, _ := filepath.Glob(filepath.Join(testenv.ToolsDir(), "playwright-core-*"))
		if len(dirs) == 0 {
			return "", fmt.Errorf("uitest: no playwright-core-* directory in %s", testenv.ToolsDir())
		}
		dir = slices.MaxFunc(dirs, func(a, b string) int { return compareVersions(versionOf(a), versionOf(b)) })
	}
	pkg := filepath.Join(dir, "node_modules", "playwright-core", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		return "", fmt.Errorf("uitest: playwright-core: %w", err)
	}
	return dir, nil
}

func versionOf(dir string) string {
	return strings.TrimPrefix(filepath.Base(dir), "playwright-core-")
}

// compareVersions orders dotted numeric versions numerically (1.10 after 1.9);
// parts that are not numbers compare as 0.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// page is what the browser is asked to do with one page: open url, and wait until its
// text holds every string of want (done) or any string of stopOn (given up early).
type page struct {
	URL        string        `json:"url"`
	Want       []string      `json:"want"`
	StopOn     []string      `json:"stopOn"`
	Screenshot string        `json:"screenshot"`
	Timeout    time.Duration `json:"-"`
	TimeoutMS  int64         `json:"timeoutMs"`
	Chromium   string        `json:"executablePath"`
}

// seen is browse.mjs's report, one JSON object on its stdout.
type seen struct {
	// Found: the page held all of want before the deadline.
	Found bool `json:"found"`
	// StoppedOn is the stopOn string that ended the wait, if any.
	StoppedOn     string   `json:"stoppedOn"`
	Text          string   `json:"text"` // document.body.innerText when the wait ended
	Screenshot    string   `json:"screenshot"`
	ConsoleErrors []string `json:"consoleErrors"`
	ElapsedMS     int64    `json:"elapsedMs"`
	Error         string   `json:"error"`
}

// open runs browse.mjs for p in a fresh browser (a fresh profile, so nothing, not even a
// cached CORS preflight, carries over between pages).
func (b *browser) open(t *testing.T, p page) seen {
	t.Helper()
	p.Chromium = b.chromium
	p.TimeoutMS = p.Timeout.Milliseconds()
	cfg, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	// The script has its own deadlines; this one only stops a node that hangs anyway.
	ctx, cancel := context.WithTimeout(context.Background(), p.Timeout+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.node, b.script, string(cfg))
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(b.playwright, "node_modules"))
	// Own process group, so a kill reaches Chromium too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var s seen
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("browse.mjs: %v; no report (%v)\nstdout:\n%s\nstderr:\n%s", runErr, err, stdout.Bytes(), stderr.Bytes())
	}
	if s.Screenshot != "" {
		t.Logf("screenshot: %s", s.Screenshot)
	}
	if s.Error != "" || runErr != nil {
		t.Fatalf("browse.mjs: %v: %s\nstderr:\n%s", runErr, s.Error, stderr.Bytes())
	}
	return s
}

// describe summarises a report for failure messages.
func (s seen) describe() string {
	text := s.Text
	if len(text) > 4000 {
		text = text[:4000] + "\n[…]"
	}
	return fmt.Sprintf("after %d ms (stopped on %q); screenshot %s; console errors: %q\npage text:\n%s",
		s.ElapsedMS, s.StoppedOn, s.Screenshot, s.ConsoleErrors, text)
}

// downloadLinkRE finds a preview's download link in page text.
var downloadLinkRE = regexp.MustCompile(`https?://[^\s"]+/v1/download/[^\s"]+`)

// screenshotPath returns where the current test's screenshot goes: its artifact directory,
// a temporary one unless `go test -artifacts` keeps it (make test does, under artifacts/).
func screenshotPath(t *testing.T) string {
	t.Helper()
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return filepath.Join(t.ArtifactDir(), name+".png")
}

// isPNG reports whether the file at path starts with the PNG signature.
func isPNG(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sig := make([]byte, 8)
	if _, err := io.ReadFull(f, sig); err != nil {
		return err
	}
	if !bytes.Equal(sig, []byte("\x89PNG\r\n\x1a\n")) {
		return errors.New("not a PNG file")
	}
	return nil
}
