// Package retention checks that a bucket's lifecycle rules cannot delete a blob that a
// running or retained workflow still references.
//
// Each store reads its own bucket's rules (s3store, gcsstore and azblobstore have a
// Lifecycle method) into the driver-neutral Lifecycle here; Check compares them with the
// namespace retention, the longest workflow run and the store's touch interval, and
// gives one of four verdicts with the numbers behind it, for each blob prefix (one per
// key version: v1/ for SHA-256, v2/ for BLAKE3) and overall the worst of them. The
// `longhaul check retention` command and the payload service's start-up check both use it.
//
// The rule a lifecycle must meet (see each store's OPERATIONS.md):
//
//	expiry days >= ceil(max run + namespace retention + touch interval) + 1 day margin
//
// A blob may be referenced from a workflow's first event and read until the closed
// workflow's history is deleted after the retention period; reuse refreshes the blob's
// age only when it is older than the touch interval, so at its last use it may already be
// that old.
package retention

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/api/workflowservice/v1"
)

// Source reads a store's lifecycle configuration; s3store, gcsstore and azblobstore
// implement it.
type Source interface {
	Lifecycle(ctx context.Context) (Lifecycle, error)
}

// Lifecycle is what a store's bucket says about removing objects, and what the store
// does to keep the blobs it reuses young.
type Lifecycle struct {
	// Store names the store in reports, e.g. "s3store(s3://bucket/prod/)".
	Store string
	// BlobPrefixes are the object-name prefixes under which the store keeps blobs, one
	// per key version, e.g. "prod/v1/" (SHA-256) and "prod/v2/" (BLAKE3); rules are
	// judged against each, since a store holds blobs under both.
	BlobPrefixes []string
	// TouchAfter is the age after which reuse refreshes a blob's clock.
	TouchAfter time.Duration
	// Rules are the bucket's rules, one per action (an S3 rule with an expiration and
	// an abort of incomplete uploads gives two).
	Rules []Rule
	// Unknown, when not empty, says why the rules cannot be read; Check then answers
	// CannotTell with it.
	Unknown string
}

// Action is what a rule does to the objects it matches.
type Action string

// Actions of a Rule.
const (
	// Expire deletes current objects.
	Expire Action = "expire"
	// Archive moves current objects to a storage class that cannot be read without a
	// restore (S3 Glacier Flexible Retrieval, Deep Archive): as bad as deleting for a
	// workflow that needs the blob.
	Archive Action = "archive"
	// ExpireNoncurrent removes noncurrent versions or delete markers only; blobs in use
	// are current versions.
	ExpireNoncurrent Action = "expire-noncurrent"
	// AbortUploads removes incomplete multipart uploads: the cleanup longhaul wants.
	AbortUploads Action = "abort-incomplete-uploads"
	// Other is an action that neither deletes nor hides current objects (a transition
	// to a class that stays readable).
	Other Action = "other"
)

// Clock is what a rule's age counts from.
type Clock string

// Clocks of a Rule.
const (
	// ClockRefreshed is the time the store moves forward when it reuses a blob
	// (S3 LastModified, GCS customTime, Azure Last-Modified).
	ClockRefreshed Clock = "refreshed"
	// ClockCreated is the object's creation, which reuse never moves (GCS "age").
	ClockCreated Clock = "created"
)

// Rule is one action of one lifecycle rule.
type Rule struct {
	// ID is the rule's name in the bucket's configuration ("" when it has none).
	ID string
	// Enabled is false for a rule that is switched off.
	Enabled bool
	// Prefix limits the rule to object names starting with it; "" is the whole bucket.
	Prefix string
	// Tags the rule requires on an object; longhaul tags no object, so a rule that
	// requires tags never matches a blob.
	Tags map[string]string
	// Narrowed says the rule has another filter that matches only some blobs (object
	// size, name suffix, storage class); it may still match blobs in use.
	Narrowed string
	// Action is what the rule does.
	Action Action
	// Days is the age at which the action runs (0 with Date set, or for actions
	// without an age).
	Days int
	// Date, when not zero, is a fixed day on which the action runs for every matching
	// object.
	Date time.Time
	// Clock is what Days counts from.
	Clock Clock
	// Detail describes the rule as the bucket states it, for reports, e.g.
	// "Expiration.Days=30" or "condition.age=30".
	Detail string
}

// NamespaceRetention reads a namespace's workflow execution retention with
// DescribeNamespace.
func NamespaceRetention(ctx context.Context, svc workflowservice.WorkflowServiceClient, namespace string) (time.Duration, error) {
	resp, err := svc.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	if err != nil {
		return 0, fmt.Errorf("retention: describe namespace %q: %w", namespace, err)
	}
	ttl := resp.GetConfig().GetWorkflowExecutionRetentionTtl()
	if ttl == nil {
		return 0, fmt.Errorf("retention: namespace %q has no retention set", namespace)
	}
	return ttl.AsDuration(), nil
}
