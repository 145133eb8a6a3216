package retention_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/retention"
)

const day = 24 * time.Hour

func lifecycle(rules ...retention.Rule) retention.Lifecycle {
	return retention.Lifecycle{Store: "test", BlobPrefix: "prod/v1/", TouchAfter: day, Rules: rules}
}

func expire(days int) retention.Rule {
	return retention.Rule{ID: "r", Enabled: true, Prefix: "prod/v1/", Action: retention.Expire, Days: days,
		Clock: retention.ClockRefreshed, Detail: "Expiration.Days"}
}

func TestCheck(t *testing.T) {
	params := retention.Params{Namespace: "default", Retention: 7 * day, MaxRun: 30 * day}
	with := func(r retention.Rule, f func(*retention.Rule)) retention.Rule { f(&r); return r }
	tests := []struct {
		name    string
		lc      retention.Lifecycle
		p       retention.Params
		verdict retention.Verdict
		effect  retention.Effect // of the first rule
		short   int
		want    string // in the reason
	}{
		{"exactly enough", lifecycle(expire(39)), params, retention.OK, retention.EffectSafe, 0, "0 days more than the 39 needed"},
		{"margin", lifecycle(expire(60)), params, retention.OK, retention.EffectSafe, 0, "21 days more"},
		{"one day short", lifecycle(expire(38)), params, retention.Unsafe, retention.EffectUnsafe, 1, "1 days too early"},
		{"much too short", lifecycle(expire(7)), params, retention.Unsafe, retention.EffectUnsafe, 32, `"prod/v1/default/"`},
		{"whole bucket", lifecycle(with(expire(7), func(r *retention.Rule) { r.Prefix = "" })), params,
			retention.Unsafe, retention.EffectUnsafe, 32, "too early"},
		{"narrower prefix still hits", lifecycle(with(expire(7), func(r *retention.Rule) { r.Prefix = "prod/v1/default/sha256/a" })),
			params, retention.Unsafe, retention.EffectUnsafe, 32, "too early"},
		{"other prefix", lifecycle(with(expire(1), func(r *retention.Rule) { r.Prefix = "logs/" })), params,
			retention.NoExpiry, retention.EffectIgnored, 0, "grows forever"},
		{"other namespace", lifecycle(with(expire(1), func(r *retention.Rule) { r.Prefix = "prod/v1/other/" })), params,
			retention.NoExpiry, retention.EffectIgnored, 0, "grows forever"},
		{"disabled", lifecycle(with(expire(1), func(r *retention.Rule) { r.Enabled = false })), params,
			retention.NoExpiry, retention.EffectIgnored, 0, "at least 39 days"},
		{"tags", lifecycle(with(expire(1), func(r *retention.Rule) { r.Tags = map[string]string{"k": "v"} })), params,
			retention.NoExpiry, retention.EffectIgnored, 0, "grows forever"},
		{"created clock", lifecycle(with(expire(400), func(r *retention.Rule) { r.Clock = retention.ClockCreated })), params,
			retention.Unsafe, retention.EffectUnsafe, 0, "reuse does not move creation"},
		{"date", lifecycle(with(expire(0), func(r *retention.Rule) { r.Date = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) })),
			params, retention.Unsafe, retention.EffectUnsafe, 0, "on 2027-01-01"},
		{"archive", lifecycle(with(expire(10), func(r *retention.Rule) { r.Action = retention.Archive })), params,
			retention.Unsafe, retention.EffectUnsafe, 29, "archives"},
		{"noncurrent only", lifecycle(with(expire(1), func(r *retention.Rule) { r.Action = retention.ExpireNoncurrent })), params,
			retention.NoExpiry, retention.EffectNoncurrent, 0, "grows forever"},
		{"abort uploads alone", lifecycle(with(expire(1), func(r *retention.Rule) { r.Action = retention.AbortUploads })), params,
			retention.NoExpiry, retention.EffectCleansUp, 0, "grows forever"},
		{"no rules", lifecycle(), params, retention.NoExpiry, "", 0, "at least 39 days"},
		{"unknown rules", retention.Lifecycle{Unknown: "NotImplemented", TouchAfter: day}, params, retention.CannotTell, "", 0,
			"NotImplemented; a safe rule expires"},
		{"unknown retention", lifecycle(expire(60)), retention.Params{RetentionUnknown: "no address"}, retention.CannotTell,
			"", 0, "no address"},
		{"default max run", lifecycle(expire(39)), retention.Params{Namespace: "default", Retention: 7 * day},
			retention.OK, retention.EffectSafe, 0, "max run 30d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := retention.Check(tt.lc, tt.p)
			if r.Verdict != tt.verdict {
				t.Fatalf("verdict %s, want %s (%s)", r.Verdict, tt.verdict, r.Reason)
			}
			if !strings.Contains(r.Reason, tt.want) {
				t.Errorf("reason %q lacks %q", r.Reason, tt.want)
			}
			if tt.effect == "" {
				return
			}
			if f := r.Findings[0]; f.Effect != tt.effect || f.ShortDays != tt.short {
				t.Errorf("finding %+v, want effect %s short %d", f, tt.effect, tt.short)
			}
		})
	}
}

func TestCheckUnsafeWinsOverSafe(t *testing.T) {
	lc := lifecycle(expire(60), expire(10))
	r := retention.Check(lc, retention.Params{Namespace: "ns", Retention: 7 * day, MaxRun: 30 * day})
	if r.Verdict != retention.Unsafe || r.NeededDays != 39 {
		t.Fatalf("%+v", r)
	}
}

func TestReportJSON(t *testing.T) {
	r := retention.Check(lifecycle(expire(39)), retention.Params{Namespace: "ns", Retention: 7 * day, MaxRun: 36 * time.Hour})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["retention"] != "7d" || got["maxRun"] != "1.5d" || got["verdict"] != "ok" || got["neededDays"] != 11.0 {
		t.Errorf("JSON %s", b)
	}
}
