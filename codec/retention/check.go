package retention

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Verdict is the answer of Check.
type Verdict string

// The four verdicts.
const (
	// OK: a rule expires blobs, and no blob a running or retained workflow references
	// can reach its age.
	OK Verdict = "ok"
	// Unsafe: a rule would delete (or make unreadable) blobs still in use.
	Unsafe Verdict = "would-delete-blobs-in-use"
	// NoExpiry: no rule removes blobs; the store grows forever.
	NoExpiry Verdict = "no-expiry"
	// CannotTell: the rules or the retention cannot be read; Report.Reason says why.
	CannotTell Verdict = "cannot-tell"
)

// Margin is added to the needed age: lifecycle runs asynchronously and worker clocks may
// be behind the store's.
const Margin = 24 * time.Hour

// DefaultMaxRun is the longest workflow run assumed when Params.MaxRun is zero.
const DefaultMaxRun = 30 * 24 * time.Hour

// Params are the workflow-side numbers of the check.
type Params struct {
	// Namespace is the Temporal namespace whose blobs are checked.
	Namespace string
	// Retention is the namespace's workflow execution retention.
	Retention time.Duration
	// RetentionUnknown, when not empty, says why Retention is not known (CannotTell).
	RetentionUnknown string
	// MaxRun is the longest a workflow (or a continue-as-new chain that does not re-send
	// its inputs) runs; zero means DefaultMaxRun.
	MaxRun time.Duration
}

// Report is the result of Check, with the numbers behind the verdict.
type Report struct {
	// Verdict is the worst of the prefixes' verdicts (would-delete-blobs-in-use, then
	// cannot-tell, then no-expiry, then ok); Reason gives the reasons of the prefixes
	// with that verdict.
	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason"`
	Store   string  `json:"store"`
	// BlobPrefixes are the store's blob prefixes, as Lifecycle.BlobPrefixes.
	BlobPrefixes []string      `json:"blobPrefixes"`
	Namespace    string        `json:"namespace"`
	Retention    time.Duration `json:"-"`
	MaxRun       time.Duration `json:"-"`
	TouchAfter   time.Duration `json:"-"`
	// NeededDays is the smallest safe expiry age in days:
	// ceil(MaxRun + Retention + TouchAfter + Margin).
	NeededDays int `json:"neededDays"`
	// Prefixes holds the verdict for each blob prefix, in BlobPrefixes order.
	Prefixes []PrefixVerdict `json:"prefixes"`
	// Findings are every rule's effect on each prefix's blobs, prefix by prefix.
	Findings []Finding `json:"rules"`
}

// PrefixVerdict is the verdict for the blobs under one blob prefix.
type PrefixVerdict struct {
	// Prefix is the blob prefix, e.g. "prod/v2/".
	Prefix string `json:"prefix"`
	// Blobs is what the rules were judged against: Prefix and the namespace, e.g.
	// "prod/v2/orders/".
	Blobs   string  `json:"blobs"`
	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason"`
}

// Effect is what a rule means for blobs in use.
type Effect string

// Effects of a Finding.
const (
	EffectUnsafe     Effect = "deletes-blobs-in-use"
	EffectSafe       Effect = "expires-unused-blobs"
	EffectCleansUp   Effect = "cleans-incomplete-uploads"
	EffectNoncurrent Effect = "noncurrent-versions-only"
	EffectIgnored    Effect = "does-not-apply"
)

// Finding is one rule's effect on the blobs.
type Finding struct {
	// Prefix is the blob prefix whose blobs the rule was judged against.
	Prefix string `json:"prefix"`
	Rule   Rule   `json:"rule"`
	Effect Effect `json:"effect"`
	// ShortDays is how many days too early an unsafe rule acts (0 when not by age).
	ShortDays int `json:"shortDays,omitempty"`
	// MarginDays is how many days later than needed a safe rule acts.
	MarginDays int    `json:"marginDays,omitempty"`
	Why        string `json:"why"`
}

// Check compares a store's lifecycle with the namespace retention and the longest run,
// for the blobs under each of the store's blob prefixes.
func Check(lc Lifecycle, p Params) Report {
	if p.MaxRun <= 0 {
		p.MaxRun = DefaultMaxRun
	}
	r := Report{Store: lc.Store, BlobPrefixes: lc.BlobPrefixes, Namespace: p.Namespace, Retention: p.Retention,
		MaxRun: p.MaxRun, TouchAfter: lc.TouchAfter}
	r.NeededDays = int(math.Ceil((p.MaxRun + p.Retention + lc.TouchAfter + Margin).Hours() / 24))
	var unknown string
	switch {
	case lc.Unknown != "":
		unknown = lc.Unknown + "; " + r.advice(lc.BlobPrefixes...)
	case p.RetentionUnknown != "":
		unknown = "namespace retention unknown: " + p.RetentionUnknown
	case len(lc.BlobPrefixes) == 0:
		unknown = "the store names no blob prefix to judge the rules against"
	}
	for _, prefix := range lc.BlobPrefixes {
		v := PrefixVerdict{Prefix: prefix, Blobs: prefix, Verdict: CannotTell, Reason: unknown}
		if p.Namespace != "" {
			v.Blobs += p.Namespace + "/"
		}
		if unknown == "" {
			v = r.checkPrefix(v, lc.Rules)
		}
		r.Prefixes = append(r.Prefixes, v)
	}
	if unknown != "" {
		r.Verdict, r.Reason = CannotTell, unknown
		return r
	}
	r.Verdict, r.Reason = worst(r.Prefixes)
	return r
}

// checkPrefix judges every rule against the blobs under one prefix, adds the findings
// to r and returns the prefix's verdict.
func (r *Report) checkPrefix(v PrefixVerdict, rules []Rule) PrefixVerdict {
	var unsafe, safe []Finding
	for _, rule := range rules {
		f := r.judge(rule, v.Blobs)
		f.Prefix = v.Prefix
		r.Findings = append(r.Findings, f)
		switch f.Effect {
		case EffectUnsafe:
			unsafe = append(unsafe, f)
		case EffectSafe:
			safe = append(safe, f)
		}
	}
	switch {
	case len(unsafe) > 0:
		v.Verdict, v.Reason = Unsafe, describe(unsafe)
	case len(safe) > 0:
		v.Verdict, v.Reason = OK, describe(safe)
	default:
		v.Verdict = NoExpiry
		v.Reason = "no enabled rule expires objects under " + quote(v.Blobs) +
			": blobs are never deleted and storage grows forever; " + r.advice(v.Prefix)
	}
	return v
}

// severity orders the verdicts from best to worst.
var severity = map[Verdict]int{OK: 0, NoExpiry: 1, CannotTell: 2, Unsafe: 3}

// worst returns the worst of the prefixes' verdicts and their reasons joined.
func worst(vs []PrefixVerdict) (Verdict, string) {
	var verdict Verdict = OK
	for _, v := range vs {
		if severity[v.Verdict] > severity[verdict] {
			verdict = v.Verdict
		}
	}
	var reasons []string
	for _, v := range vs {
		if v.Verdict == verdict {
			reasons = append(reasons, v.Reason)
		}
	}
	return verdict, strings.Join(reasons, "; ")
}

// advice says what rule would be right for the blobs under prefixes.
func (r Report) advice(prefixes ...string) string {
	quoted := make([]string, len(prefixes))
	for i, p := range prefixes {
		quoted[i] = quote(p)
	}
	if len(quoted) == 0 {
		quoted = []string{"the store's blobs"}
	}
	return fmt.Sprintf("a safe rule expires %s after at least %d days from the time the store refreshes (%s)",
		strings.Join(quoted, " and "), r.NeededDays, r.formula())
}

func (r Report) formula() string {
	return fmt.Sprintf("max run %s + retention %s + touch interval %s + margin %s",
		Days(r.MaxRun), Days(r.Retention), Days(r.TouchAfter), Days(Margin))
}

// judge says what one rule does to the blobs under prefix blobs.
func (r Report) judge(rule Rule, blobs string) Finding {
	f := Finding{Rule: rule}
	ignore := func(why string) Finding { f.Effect, f.Why = EffectIgnored, why; return f }
	switch {
	case !rule.Enabled:
		return ignore("rule is disabled")
	case len(rule.Tags) > 0:
		return ignore("rule requires object tags, and longhaul tags no blob")
	case rule.Action == AbortUploads:
		f.Effect = EffectCleansUp
		f.Why = fmt.Sprintf("aborts incomplete multipart uploads after %d days (good: a killed upload's parts are freed)", rule.Days)
		return f
	case !overlaps(rule.Prefix, blobs):
		return ignore("prefix " + quote(rule.Prefix) + " does not cover the blobs under " + quote(blobs))
	case rule.Action == ExpireNoncurrent:
		f.Effect, f.Why = EffectNoncurrent, "acts on noncurrent versions or delete markers only; blobs in use are current"
		return f
	case rule.Action == Other:
		return ignore("does not delete or archive current objects")
	}
	what := "deletes"
	if rule.Action == Archive {
		what = "archives (unreadable without a restore)"
	}
	scope := "blobs under " + quote(blobs)
	if rule.Narrowed != "" {
		scope += " " + rule.Narrowed
	}
	f.Effect = EffectUnsafe
	switch {
	case !rule.Date.IsZero():
		f.Why = fmt.Sprintf("%s every one of the %s on %s, whatever its age", what, scope, rule.Date.Format(time.DateOnly))
	case rule.Clock == ClockCreated:
		f.Why = fmt.Sprintf("%s %s %d days after creation, and reuse does not move creation: a blob written once and "+
			"referenced by a new workflow is deleted while in use (use an age counted from the refreshed time)", what, scope, rule.Days)
	case rule.Days < r.NeededDays:
		f.ShortDays = r.NeededDays - rule.Days
		f.Why = fmt.Sprintf("%s %s after %d days, %d days too early (needs %d: %s)",
			what, scope, rule.Days, f.ShortDays, r.NeededDays, r.formula())
	default:
		f.Effect, f.MarginDays = EffectSafe, rule.Days-r.NeededDays
		f.Why = fmt.Sprintf("%s %s after %d days, %d days more than the %d needed (%s)",
			what, scope, rule.Days, f.MarginDays, r.NeededDays, r.formula())
	}
	return f
}

// overlaps reports whether a rule prefix matches some object names under blobs.
func overlaps(rulePrefix, blobs string) bool {
	return strings.HasPrefix(blobs, rulePrefix) || strings.HasPrefix(rulePrefix, blobs)
}

func describe(fs []Finding) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = ruleName(f.Rule) + " " + f.Why
	}
	return strings.Join(parts, "; ")
}

func ruleName(r Rule) string {
	if r.ID == "" {
		return "rule (" + r.Detail + ")"
	}
	return "rule " + quote(r.ID) + " (" + r.Detail + ")"
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// Days formats a duration in days, e.g. "30d" or "1.5d".
func Days(d time.Duration) string {
	days := d.Hours() / 24
	if days == math.Trunc(days) {
		return fmt.Sprintf("%dd", int(days))
	}
	return fmt.Sprintf("%.1fd", days)
}

// MarshalJSON writes durations as days ("7d"), as the text report does.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		plain
		Retention  string `json:"retention"`
		MaxRun     string `json:"maxRun"`
		TouchAfter string `json:"touchAfter"`
	}{plain(r), Days(r.Retention), Days(r.MaxRun), Days(r.TouchAfter)})
}
