package s3store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
	"github.com/seed-a62fcf0e/longhaul/codec/retention"
)

var _ retention.Source = (*Store)(nil)

// Lifecycle reads the bucket's lifecycle configuration (GetBucketLifecycleConfiguration,
// permission s3:GetLifecycleConfiguration) for retention.Check. A bucket without one has
// no rules; a server that does not implement lifecycle (versitygw) or refuses the request
// gives a Lifecycle whose Unknown says so. Other failures are errors.
func (s *Store) Lifecycle(ctx context.Context) (retention.Lifecycle, error) {
	lc := s.core.Lifecycle()
	var out *s3.GetBucketLifecycleConfigurationOutput
	err := s.retry(ctx, "get lifecycle", s.core.Bucket, func(ctx context.Context) error {
		var err error
		out, err = s.client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{
			Bucket: aws.String(s.core.Bucket),
		}, noRetry)
		if isCode(err, "NoSuchLifecycleConfiguration") || isCode(err, "NotImplemented") || isCode(err, "AccessDenied") {
			return driver.Permanent(err)
		}
		return err
	})
	switch {
	case isCode(err, "NoSuchLifecycleConfiguration"):
		return lc, nil
	case isCode(err, "NotImplemented"):
		lc.Unknown = fmt.Sprintf("the server does not implement GetBucketLifecycleConfiguration on bucket %q "+
			"(NotImplemented): whatever expires blobs there is outside S3's lifecycle", s.core.Bucket)
		return lc, nil
	case isCode(err, "AccessDenied"):
		lc.Unknown = fmt.Sprintf("reading the lifecycle of bucket %q was refused (AccessDenied): "+
			"grant s3:GetLifecycleConfiguration", s.core.Bucket)
		return lc, nil
	case err != nil:
		return lc, fmt.Errorf("s3store lifecycle %s: %w", s, err)
	}
	for _, r := range out.Rules {
		lc.Rules = append(lc.Rules, lifecycleRules(r)...)
	}
	return lc, nil
}

// lifecycleRules turns one S3 rule into one retention.Rule per action.
func lifecycleRules(r types.LifecycleRule) []retention.Rule {
	base := retention.Rule{ID: aws.ToString(r.ID), Enabled: r.Status == types.ExpirationStatusEnabled,
		Prefix: aws.ToString(r.Prefix), Clock: retention.ClockRefreshed}
	filterOf(r.Filter, &base)
	var rules []retention.Rule
	add := func(a retention.Action, days int32, detail string) {
		rule := base
		rule.Action, rule.Days, rule.Detail = a, int(days), detail
		rules = append(rules, rule)
	}
	if e := r.Expiration; e != nil {
		switch {
		case e.Days != nil:
			add(retention.Expire, *e.Days, fmt.Sprintf("Expiration.Days=%d", *e.Days))
		case e.Date != nil:
			add(retention.Expire, 0, "Expiration.Date="+e.Date.Format("2006-01-02"))
			rules[len(rules)-1].Date = *e.Date
		case aws.ToBool(e.ExpiredObjectDeleteMarker):
			add(retention.ExpireNoncurrent, 0, "Expiration.ExpiredObjectDeleteMarker")
		}
	}
	for _, t := range r.Transitions {
		a := retention.Other
		if t.StorageClass == types.TransitionStorageClassGlacier || t.StorageClass == types.TransitionStorageClassDeepArchive {
			a = retention.Archive
		}
		add(a, aws.ToInt32(t.Days), fmt.Sprintf("Transition.StorageClass=%s Days=%d", t.StorageClass, aws.ToInt32(t.Days)))
		if t.Date != nil {
			rules[len(rules)-1].Date = *t.Date
		}
	}
	if e := r.NoncurrentVersionExpiration; e != nil {
		add(retention.ExpireNoncurrent, aws.ToInt32(e.NoncurrentDays), fmt.Sprintf("NoncurrentVersionExpiration.NoncurrentDays=%d",
			aws.ToInt32(e.NoncurrentDays)))
	}
	for _, t := range r.NoncurrentVersionTransitions {
		add(retention.ExpireNoncurrent, aws.ToInt32(t.NoncurrentDays), "NoncurrentVersionTransition")
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		add(retention.AbortUploads, aws.ToInt32(a.DaysAfterInitiation),
			fmt.Sprintf("AbortIncompleteMultipartUpload.DaysAfterInitiation=%d", aws.ToInt32(a.DaysAfterInitiation)))
	}
	return rules
}

// filterOf copies an S3 rule filter's prefix, tags and size limits into rule.
func filterOf(f *types.LifecycleRuleFilter, rule *retention.Rule) {
	if f == nil {
		return
	}
	tags := map[string]string{}
	gt, lt := f.ObjectSizeGreaterThan, f.ObjectSizeLessThan
	if f.Prefix != nil {
		rule.Prefix = *f.Prefix
	}
	if f.Tag != nil {
		tags[aws.ToString(f.Tag.Key)] = aws.ToString(f.Tag.Value)
	}
	if a := f.And; a != nil {
		if a.Prefix != nil {
			rule.Prefix = *a.Prefix
		}
		for _, t := range a.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		gt, lt = cmpPtr(gt, a.ObjectSizeGreaterThan), cmpPtr(lt, a.ObjectSizeLessThan)
	}
	if len(tags) > 0 {
		rule.Tags = tags
	}
	var narrowed []string
	if gt != nil {
		narrowed = append(narrowed, fmt.Sprintf("larger than %d bytes", *gt))
	}
	if lt != nil {
		narrowed = append(narrowed, fmt.Sprintf("smaller than %d bytes", *lt))
	}
	sort.Strings(narrowed)
	rule.Narrowed = strings.Join(narrowed, " and ")
}

func cmpPtr(a, b *int64) *int64 {
	if a != nil {
		return a
	}
	return b
}
