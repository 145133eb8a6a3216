package payloadsvc

import (
	"errors"
	"net/http"
	"time"
)

// stallChunk is how much of an answer is written under one write deadline.
const stallChunk = 256 << 10

// writeAll writes an answer body in chunks, each under a deadline of stall
// (Options.WriteStallTimeout) from its start: a client that reads on, however slowly,
// gets it all; one that stops reading is cut off after the timeout, so the request
// returns and releases what it holds of the in-flight budget instead of holding it
// until the server's write timeout.
func writeAll(w http.ResponseWriter, body []byte, stall time.Duration) error {
	rc := http.NewResponseController(w)
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	for len(body) > 0 {
		n := min(len(body), stallChunk)
		if err := rc.SetWriteDeadline(time.Now().Add(stall)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		if _, err := w.Write(body[:n]); err != nil {
			return err
		}
		body = body[n:]
	}
	return nil
}
