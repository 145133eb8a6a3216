package s3store

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seed-a62fcf0e/longhaul/codec/retention"
)

// Every part of an S3 rule that matters to retention.Check is carried over: filters
// (prefix, tags, sizes, the deprecated top-level prefix), status, and one rule per action.
func TestLifecycleRules(t *testing.T) {
	date := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   types.LifecycleRule
		want []retention.Rule
	}{
		{"expire and abort", types.LifecycleRule{ID: aws.String("a"), Status: types.ExpirationStatusEnabled,
			Filter:                         &types.LifecycleRuleFilter{Prefix: aws.String("p/")},
			Expiration:                     &types.LifecycleExpiration{Days: aws.Int32(40)},
			AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)}},
			[]retention.Rule{
				{ID: "a", Enabled: true, Prefix: "p/", Action: retention.Expire, Days: 40, Clock: retention.ClockRefreshed,
					Detail: "Expiration.Days=40"},
				{ID: "a", Enabled: true, Prefix: "p/", Action: retention.AbortUploads, Days: 1, Clock: retention.ClockRefreshed,
					Detail: "AbortIncompleteMultipartUpload.DaysAfterInitiation=1"},
			}},
		{"and filter, disabled, date", types.LifecycleRule{Status: types.ExpirationStatusDisabled,
			Filter: &types.LifecycleRuleFilter{And: &types.LifecycleRuleAndOperator{Prefix: aws.String("q/"),
				Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}, ObjectSizeGreaterThan: aws.Int64(1024)}},
			Expiration: &types.LifecycleExpiration{Date: &date}},
			[]retention.Rule{{Prefix: "q/", Tags: map[string]string{"k": "v"}, Narrowed: "larger than 1024 bytes", Action: retention.Expire,
				Date: date, Clock: retention.ClockRefreshed, Detail: "Expiration.Date=2027-01-01"}}},
		{"deprecated prefix, transitions, noncurrent", types.LifecycleRule{Status: types.ExpirationStatusEnabled, Prefix: aws.String("old/"),
			Transitions: []types.Transition{{Days: aws.Int32(30), StorageClass: types.TransitionStorageClassGlacier},
				{Days: aws.Int32(10), StorageClass: types.TransitionStorageClassStandardIa}},
			NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)}},
			[]retention.Rule{
				{Enabled: true, Prefix: "old/", Action: retention.Archive, Days: 30, Clock: retention.ClockRefreshed,
					Detail: "Transition.StorageClass=GLACIER Days=30"},
				{Enabled: true, Prefix: "old/", Action: retention.Other, Days: 10, Clock: retention.ClockRefreshed,
					Detail: "Transition.StorageClass=STANDARD_IA Days=10"},
				{Enabled: true, Prefix: "old/", Action: retention.ExpireNoncurrent, Days: 1, Clock: retention.ClockRefreshed,
					Detail: "NoncurrentVersionExpiration.NoncurrentDays=1"},
			}},
		{"delete markers", types.LifecycleRule{Status: types.ExpirationStatusEnabled,
			Expiration: &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}},
			[]retention.Rule{{Enabled: true, Action: retention.ExpireNoncurrent, Clock: retention.ClockRefreshed,
				Detail: "Expiration.ExpiredObjectDeleteMarker"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lifecycleRules(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d rules, want %d: %+v", len(got), len(tt.want), got)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.ID != w.ID || g.Enabled != w.Enabled || g.Prefix != w.Prefix || len(g.Tags) != len(w.Tags) || g.Narrowed != w.Narrowed ||
					g.Action != w.Action || g.Days != w.Days || !g.Date.Equal(w.Date) || g.Clock != w.Clock || g.Detail != w.Detail {
					t.Errorf("rule %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}
