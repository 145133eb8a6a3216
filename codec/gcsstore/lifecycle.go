package gcsstore

import (
	"context"
	"fmt"
	"strings"

	"cloud.google.com/go/storage"

	"github.com/seed-a62fcf0e/longhaul/codec/retention"
)

var _ retention.Source = (*Store)(nil)

// Lifecycle reads the bucket's lifecycle rules (bucket metadata, permission
// storage.buckets.get) for retention.Check. daysSinceCustomTime counts from the time the
// store refreshes; age counts from creation, which reuse never moves. A Delete rule on
// the store's .uploads/ directory is reported as the cleanup of upload parts.
// fake-gcs-server keeps no lifecycle: against it the bucket always has no rules.
func (s *Store) Lifecycle(ctx context.Context) (retention.Lifecycle, error) {
	lc := s.core.Lifecycle()
	var attrs *storage.BucketAttrs
	err := s.core.Retrier.Do(ctx, "bucket attrs", s.core.Bucket, func(ctx context.Context) error {
		var err error
		attrs, err = s.bucket.Attrs(ctx)
		return err
	})
	if err != nil {
		return lc, fmt.Errorf("gcsstore lifecycle %s: %w", s, err)
	}
	for _, r := range attrs.Lifecycle.Rules {
		lc.Rules = append(lc.Rules, s.lifecycleRules(r)...)
	}
	return lc, nil
}

// lifecycleRules turns one GCS rule into one retention.Rule per matched prefix.
func (s *Store) lifecycleRules(r storage.LifecycleRule) []retention.Rule {
	c := r.Condition
	rule := retention.Rule{Enabled: true, Clock: retention.ClockRefreshed}
	switch {
	case r.Action.Type == storage.AbortIncompleteMPUAction:
		rule.Action, rule.Days = retention.AbortUploads, int(c.AgeInDays)
	case r.Action.Type != storage.DeleteAction:
		rule.Action = retention.Other // SetStorageClass: every GCS class stays readable
	case c.Liveness == storage.Archived || c.NumNewerVersions > 0 || c.DaysSinceNoncurrentTime > 0 || !c.NoncurrentTimeBefore.IsZero():
		rule.Action = retention.ExpireNoncurrent
	case c.DaysSinceCustomTime > 0:
		rule.Action, rule.Days = retention.Expire, int(c.DaysSinceCustomTime)
	case c.AgeInDays > 0:
		rule.Action, rule.Days, rule.Clock = retention.Expire, int(c.AgeInDays), retention.ClockCreated
	case !c.CreatedBefore.IsZero():
		rule.Action, rule.Date = retention.Expire, c.CreatedBefore
	case !c.CustomTimeBefore.IsZero():
		rule.Action, rule.Date = retention.Expire, c.CustomTimeBefore
	default:
		rule.Action, rule.Clock = retention.Expire, retention.ClockCreated // Delete with only filters: age 0
	}
	rule.Detail = describeGCSRule(r)
	var narrowed []string
	if len(c.MatchesSuffix) > 0 {
		narrowed = append(narrowed, "with suffix "+strings.Join(c.MatchesSuffix, " or "))
	}
	if len(c.MatchesStorageClasses) > 0 {
		narrowed = append(narrowed, "in storage class "+strings.Join(c.MatchesStorageClasses, " or "))
	}
	rule.Narrowed = strings.Join(narrowed, " and ")
	prefixes := c.MatchesPrefix
	if len(prefixes) == 0 {
		prefixes = []string{""}
	}
	rules := make([]retention.Rule, len(prefixes))
	for i, p := range prefixes {
		rules[i] = rule
		rules[i].Prefix = p
		if rule.Action == retention.Expire && strings.HasPrefix(p, s.core.Prefix+uploadsDir) {
			rules[i].Action = retention.AbortUploads // removes the parts of dead uploads: good
		}
	}
	return rules
}

func describeGCSRule(r storage.LifecycleRule) string {
	c := r.Condition
	var parts []string
	add := func(cond bool, f string, v any) {
		if cond {
			parts = append(parts, fmt.Sprintf(f, v))
		}
	}
	add(c.AgeInDays > 0, "age=%d", c.AgeInDays)
	add(c.DaysSinceCustomTime > 0, "daysSinceCustomTime=%d", c.DaysSinceCustomTime)
	add(c.DaysSinceNoncurrentTime > 0, "daysSinceNoncurrentTime=%d", c.DaysSinceNoncurrentTime)
	add(!c.CreatedBefore.IsZero(), "createdBefore=%s", c.CreatedBefore.Format("2006-01-02"))
	add(!c.CustomTimeBefore.IsZero(), "customTimeBefore=%s", c.CustomTimeBefore.Format("2006-01-02"))
	add(c.NumNewerVersions > 0, "numNewerVersions=%d", c.NumNewerVersions)
	add(len(c.MatchesPrefix) > 0, "matchesPrefix=%v", c.MatchesPrefix)
	return "action " + r.Action.Type + " condition " + strings.Join(parts, " ")
}
