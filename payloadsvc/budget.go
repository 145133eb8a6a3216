package payloadsvc

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// The in-flight budget (Options.MaxInflightBytes) that admission and the downloads
// reserve from; see admission.go.

// errBusy: the request would fit the budget, but not now.
var errBusy = errors.New("the service is busy with other codec requests")

// tooLargeError: the request could never fit.
type tooLargeError struct {
	what      string
	n, limit  int64
	limitName string
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("%s: %d, over the limit of %d (%s)", e.what, e.n, e.limit, e.limitName)
}

// budget is a counting semaphore of bytes that never waits.
type budget struct {
	mu        sync.Mutex
	max, used int64
}

func newBudget(max int64) *budget { return &budget{max: max} }

// reservation is what one request holds of the budget; release returns all of it.
type reservation struct {
	b *budget
	n int64
}

// add reserves n more bytes for the request.
func (r *reservation) add(what string, n int64) error {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.n+n > b.max || n < 0 {
		return &tooLargeError{what: what + " (bytes in flight)", n: r.n + n, limit: b.max, limitName: "--max-inflight-bytes"}
	}
	if b.used+n > b.max {
		return errBusy
	}
	b.used += n
	r.n += n
	return nil
}

func (r *reservation) release() {
	r.b.mu.Lock()
	r.b.used -= r.n
	r.b.mu.Unlock()
	r.n = 0
}

// inUse reports the bytes reserved now, for tests and metrics.
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// reservingReader reserves what it reads ahead of handing it out, in steps, so a body
// without Content-Length is bounded as it arrives.
type reservingReader struct {
	r        io.Reader
	res      *reservation
	read     int64
	reserved int64
}

const reserveStep = 64 << 10

func (rr *reservingReader) Read(p []byte) (int, error) {
	if rr.read+int64(len(p)) > rr.reserved {
		step := max(int64(len(p)), reserveStep)
		if err := rr.res.add("request body", step); err != nil {
			return 0, err
		}
		rr.reserved += step
	}
	n, err := rr.r.Read(p)
	rr.read += int64(n)
	return n, err
}

// refuse answers an admission error (413 or 503 with Retry-After) and reports whether
// there was one.
func refuse(w http.ResponseWriter, r *http.Request, err error) bool {
	var tooLarge *tooLargeError
	switch {
	case err == nil:
		return false
	case errors.As(err, &tooLarge):
		writeError(w, r, http.StatusRequestEntityTooLarge, "%v", tooLarge)
	case errors.Is(err, errBusy):
		w.Header().Set("Retry-After", "1")
		writeError(w, r, http.StatusServiceUnavailable, "%v: retry later", errBusy)
	default:
		return false
	}
	return true
}

func satAdd(a, b int64) int64 {
	if s := a + b; s >= a {
		return s
	}
	return 1<<63 - 1
}
