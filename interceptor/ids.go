package interceptor

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
)

// Deterministic ids. Every worker that runs or replays a workflow computes the same ids
// from history, so a span exported by one worker can be the parent of spans exported
// by another, days apart.
//
// The RunWorkflow span of a run is sequence 0; every other deterministic span takes the
// next value of a counter that advances only in code that replays identically (workflow
// code, signal and update handlers), never in queries or update validators.

// spanIDFor returns the span id of sequence seq in a run.
func spanIDFor(namespace, runID string, seq uint64) uint64 {
	return hashID("span", namespace, runID, strconv.FormatUint(seq, 10))
}

// validateSpanIDFor returns the span id of the ValidateUpdate span of update updateID in
// a run. Validators run outside the sequence (they do not replay), so their ids derive
// from the update instead: a workflow task that runs again validates the same update
// under the same id. (An update the validator rejected and the client sends again under
// the same update id is validated again under that id too.)
func validateSpanIDFor(namespace, runID, updateID string) uint64 {
	return hashID("validate", namespace, runID, updateID)
}

// traceIDFor returns the lower 64 bits of the trace id of a run that was started
// without a trace context in its header.
func traceIDFor(namespace, workflowID, runID string) uint64 {
	return hashID("trace", namespace, workflowID, runID)
}

// hashID hashes its parts, length-prefixed so that no two part lists collide, into a
// non-zero 63-bit id (Datadog ids are unsigned 64-bit, but some backends read them as
// signed).
func hashID(parts ...string) uint64 {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, p := range parts {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(p)))])
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	id := binary.BigEndian.Uint64(h.Sum(sum[:0])) >> 1
	if id == 0 {
		id = 1
	}
	return id
}
