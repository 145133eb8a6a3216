// Package sweep describes what failed uploads leave in a bucket and what a sweep of it
// removed. s3store, gcsstore and azblobstore each have a SweepUploads method (the
// Sweeper interface) that finds the debris of uploads started more than a given age
// ago under the store's prefix and removes it; committed blobs are never touched. The
// `longhaul sweep uploads` command runs it, and so can a worker on a schedule.
package sweep

import (
	"context"
	"fmt"
	"time"
)

// Sweeper removes the debris of failed uploads older than olderThan; with dryRun it
// only reports what it would remove.
type Sweeper interface {
	SweepUploads(ctx context.Context, olderThan time.Duration, dryRun bool) (Report, error)
}

// Kinds of Debris.
const (
	// KindMultipartUpload is an incomplete S3 multipart upload and its parts.
	KindMultipartUpload = "multipart-upload"
	// KindComposePart is a GCS part or intermediate object of an upload that was never
	// composed and cleaned up (gcsstore's .uploads/ directory).
	KindComposePart = "compose-part"
	// KindUncommittedBlocks is an Azure blob name with staged blocks that were never
	// committed.
	KindUncommittedBlocks = "uncommitted-blocks"
)

// Debris is one thing a failed upload left.
type Debris struct {
	// Kind is one of the Kind constants.
	Kind string `json:"kind"`
	// Name is the object (or blob) name the upload was for, or the part's own name.
	Name string `json:"name"`
	// UploadID is the S3 upload id ("" for other kinds).
	UploadID string `json:"uploadId,omitempty"`
	// Started is when the upload (or part) was started, as far as the store knows.
	Started time.Time `json:"started"`
	// Bytes is the space it takes, when known (-1 when not).
	Bytes int64 `json:"bytes"`
	// Parts is the number of parts or blocks, when known.
	Parts int `json:"parts,omitempty"`
	// Freed is true once it was removed.
	Freed bool `json:"freed"`
}

// Report is what one sweep found and freed.
type Report struct {
	// Store names the store swept.
	Store string `json:"store"`
	// Before is the cut-off: debris started before it was removed.
	Before time.Time `json:"before"`
	// DryRun is true when nothing was removed on purpose.
	DryRun bool `json:"dryRun"`
	// Found lists the debris older than the cut-off, freed or not.
	Found []Debris `json:"found"`
	// Younger counts debris left alone because it is newer than the cut-off (an upload
	// that may still be running).
	Younger int `json:"younger"`
	// Notes say what the sweep could not do, e.g. Azure's uncommitted blocks that only
	// Azure removes.
	Notes []string `json:"notes,omitempty"`
}

// FoundBytes is the space the found debris takes (known sizes only).
func (r Report) FoundBytes() int64 { return r.sum(false) }

// FreedBytes is the space freed (known sizes only).
func (r Report) FreedBytes() int64 { return r.sum(true) }

// FreedCount is the number of debris items freed.
func (r Report) FreedCount() int {
	n := 0
	for _, d := range r.Found {
		if d.Freed {
			n++
		}
	}
	return n
}

func (r Report) sum(freedOnly bool) int64 {
	var n int64
	for _, d := range r.Found {
		if d.Bytes > 0 && (d.Freed || !freedOnly) {
			n += d.Bytes
		}
	}
	return n
}

// Start returns the empty report of a sweep of store begun now: debris started more
// than olderThan ago is its to remove. A negative olderThan is an error.
func Start(store fmt.Stringer, olderThan time.Duration, dryRun bool) (Report, error) {
	rep := Report{Store: store.String(), Before: time.Now().Add(-olderThan).UTC(), DryRun: dryRun}
	if olderThan < 0 {
		return rep, fmt.Errorf("sweep %s: negative age %s", store, olderThan)
	}
	return rep, nil
}
