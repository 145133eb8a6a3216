package blobxfer

import (
	"errors"
	"fmt"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/retention"
	"github.com/seed-a62fcf0e/longhaul/codec/sweep"
)

// BlobPrefixes are where the store's blobs live: the prefix and each key version
// ("{prefix}v1/", "{prefix}v2/"). Sweeps and lifecycle checks cover every one.
func (l Location) BlobPrefixes() []string {
	versions := driver.KeyVersions()
	prefixes := make([]string, len(versions))
	for i, v := range versions {
		prefixes[i] = l.Prefix + v + "/"
	}
	return prefixes
}

// Sweep runs a store's SweepUploads: the report of a sweep begun now, filled by walk,
// which lists the debris, adds it to the report and hands each failure on one item to
// fail. An error of walk (the listing failed) ends the sweep; the failures on single
// items are joined into the returned error.
func (c *Core) Sweep(olderThan time.Duration, dryRun bool, walk func(rep *sweep.Report, fail func(error)) error) (sweep.Report, error) {
	rep, err := sweep.Start(c, olderThan, dryRun)
	if err != nil {
		return rep, err
	}
	var errs []error
	if err := walk(&rep, func(err error) { errs = append(errs, err) }); err != nil {
		return rep, fmt.Errorf("%s sweep %s: %w", c.driver, c, err)
	}
	if err := errors.Join(errs...); err != nil {
		return rep, fmt.Errorf("%s sweep %s: %w", c.driver, c, err)
	}
	return rep, nil
}

// Lifecycle returns the start of a store's retention.Lifecycle: the store, its blob
// prefixes and TouchAfter, no rules yet.
func (c *Core) Lifecycle() retention.Lifecycle {
	return retention.Lifecycle{Store: c.String(), BlobPrefixes: c.BlobPrefixes(), TouchAfter: c.Opts.TouchAfter}
}
