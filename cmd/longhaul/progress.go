package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/seed-a62fcf0e/longhaul/codec/fsck"
)

// plainEvery is how often a walk prints a progress line when stderr is not a terminal.
const plainEvery = 10 * time.Second

// progress shows a walk's progress: a bar on a terminal, a line now and then otherwise.
type progress struct {
	w    io.Writer
	bar  *progressbar.ProgressBar
	last time.Time
	p    fsck.Progress
}

func newProgress(w io.Writer, total int64) *progress {
	pr := &progress{w: w, last: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		pr.bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("workflows"),
			progressbar.OptionShowCount(), progressbar.OptionSetItsString("workflows"), progressbar.OptionShowIts(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return pr
}

// update is fsck.Options.Progress.
func (pr *progress) update(p fsck.Progress) {
	pr.p = p
	if pr.bar != nil {
		pr.bar.Describe(fmt.Sprintf("%d blobs, %d problems", p.Blobs, p.Problems))
		_ = pr.bar.Set(p.Workflows)
		return
	}
	if time.Since(pr.last) >= plainEvery {
		pr.last = time.Now()
		pr.line()
	}
}

func (pr *progress) line() {
	fmt.Fprintf(pr.w, "progress: %d workflows, %d events, %d references, %d blobs, %d problems\n",
		pr.p.Workflows, pr.p.Events, pr.p.References, pr.p.Blobs, pr.p.Problems)
}

func (pr *progress) done() {
	if pr.bar != nil {
		_ = pr.bar.Finish()
	}
}
