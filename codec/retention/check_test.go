package retention_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/retention"
)

const day = 24 * time.Hour

// lifecycle is a store under "prod/" with blobs of both key versions.
func lifecycle(rules ...retention.Rule) retention.Lifecycle {
	return retention.Lifecycle{Store: "test", BlobPrefixes: []string{"prod/v1/", "prod/v2/"}, TouchAfter: day, Rules: rules}
}

// expire is a rule on the store's bare prefix "prod/", covering both key versions.
func expire(days int) retention.Rule {
	return onPrefix("prod/", days)
}

func onPrefix(prefix string, days int) retention.Rule {
	return retention.Rule{ID: "r-" + prefix, Enabled: true, Prefix: prefix, Action: retention.Expire, Days: days,
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
		{"unknown rules", retention.Lifecycle{Unknown: "NotImplemented", TouchAfter: day, BlobPrefixes: []string{"p/v1/", "p/v2/"}},
			params, retention.CannotTell, "", 0, `NotImplemented; a safe rule expires "p/v1/" and "p/v2/" after at least 39 days`},
		{"unknown rules, no prefix", retention.Lifecycle{Unknown: "no rules here", TouchAfter: day}, params, retention.CannotTell,
			"", 0, "no rules here; a safe rule expires the store's blobs after"},
		{"no blob prefix", retention.Lifecycle{Store: "test", TouchAfter: day, Rules: []retention.Rule{expire(60)}}, params,
			retention.CannotTell, "", 0, "names no blob prefix"},
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

// Rules are judged against the blobs of each key version; each prefix gets its verdict
// and the overall verdict is the worst, naming the prefix that makes it so.
func TestCheckPrefixes(t *testing.T) {
	params := retention.Params{Namespace: "ns", Retention: 7 * day, MaxRun: 30 * day}
	const ok, unsafe, none = retention.OK, retention.Unsafe, retention.NoExpiry
	tests := []struct {
		name    string
		rules   []retention.Rule
		v1, v2  retention.Verdict
		verdict retention.Verdict
		want    []string // in the overall reason
		lacks   string   // not in the overall reason
	}{
		{"v1 only", []retention.Rule{onPrefix("prod/v1/", 60)}, ok, none, none,
			[]string{`no enabled rule expires objects under "prod/v2/ns/"`, `a safe rule expires "prod/v2/" after at least 39 days`}, "prod/v1/"},
		{"v2 only", []retention.Rule{onPrefix("prod/v2/", 60)}, none, ok, none,
			[]string{`no enabled rule expires objects under "prod/v1/ns/"`}, "prod/v2/"},
		{"both", []retention.Rule{onPrefix("prod/v1/", 60), onPrefix("prod/v2/", 45)}, ok, ok, ok,
			[]string{`"prod/v1/ns/" after 60 days`, `"prod/v2/ns/" after 45 days`}, ""},
		{"bare prefix", []retention.Rule{onPrefix("prod/", 60)}, ok, ok, ok,
			[]string{`"prod/v1/ns/" after 60 days`, `"prod/v2/ns/" after 60 days`}, ""},
		{"whole bucket", []retention.Rule{onPrefix("", 40)}, ok, ok, ok, []string{"1 days more"}, ""},
		{"namespace of v2", []retention.Rule{onPrefix("prod/v1/", 60), onPrefix("prod/v2/ns/", 60)}, ok, ok, ok, nil, ""},
		{"v1 too early", []retention.Rule{onPrefix("prod/v1/", 10), onPrefix("prod/v2/", 60)}, unsafe, ok, unsafe,
			[]string{`"prod/v1/ns/" after 10 days, 29 days too early`}, "prod/v2/"},
		{"v2 too early", []retention.Rule{onPrefix("prod/v1/", 60), onPrefix("prod/v2/", 10)}, ok, unsafe, unsafe,
			[]string{`"prod/v2/ns/" after 10 days, 29 days too early`}, "prod/v1/"},
		{"v1 too early, v2 never", []retention.Rule{onPrefix("prod/v1/", 10)}, unsafe, none, unsafe,
			[]string{"29 days too early"}, "prod/v2/"},
		{"bare prefix too early", []retention.Rule{onPrefix("prod/", 30)}, unsafe, unsafe, unsafe,
			[]string{`"prod/v1/ns/" after 30 days`, `"prod/v2/ns/" after 30 days`}, ""},
		{"neither", []retention.Rule{onPrefix("prod/v3/", 60)}, none, none, none,
			[]string{`"prod/v1/ns/"`, `"prod/v2/ns/"`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := retention.Check(lifecycle(tt.rules...), params)
			if len(r.Prefixes) != 2 || r.Prefixes[0].Prefix != "prod/v1/" || r.Prefixes[1].Prefix != "prod/v2/" {
				t.Fatalf("prefixes %+v", r.Prefixes)
			}
			if r.Prefixes[0].Verdict != tt.v1 || r.Prefixes[1].Verdict != tt.v2 || r.Verdict != tt.verdict {
				t.Fatalf("verdicts v1 %s, v2 %s, overall %s; want %s, %s, %s (%s)",
					r.Prefixes[0].Verdict, r.Prefixes[1].Verdict, r.Verdict, tt.v1, tt.v2, tt.verdict, r.Reason)
			}
			if r.Prefixes[1].Blobs != "prod/v2/ns/" {
				t.Errorf("v2 blobs %q", r.Prefixes[1].Blobs)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Reason, w) {
					t.Errorf("reason %q lacks %q", r.Reason, w)
				}
			}
			if tt.lacks != "" && strings.Contains(r.Reason, tt.lacks) {
				t.Errorf("reason %q names %q, whose verdict is better", r.Reason, tt.lacks)
			}
			if len(r.Findings) != 2*len(tt.rules) {
				t.Errorf("%d findings, want one per rule and prefix: %+v", len(r.Findings), r.Findings)
			}
			for i, f := range r.Findings {
				if want := r.Prefixes[i/len(tt.rules)].Prefix; f.Prefix != want {
					t.Errorf("finding %d judged for %q, want %q", i, f.Prefix, want)
				}
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
	var prefixes struct {
		BlobPrefixes []string `json:"blobPrefixes"`
		Prefixes     []struct {
			Prefix, Blobs, Verdict string
		} `json:"prefixes"`
		Rules []struct {
			Prefix, Effect string
		} `json:"rules"`
	}
	if err := json.Unmarshal(b, &prefixes); err != nil {
		t.Fatal(err)
	}
	if len(prefixes.BlobPrefixes) != 2 || len(prefixes.Prefixes) != 2 || prefixes.Prefixes[1].Prefix != "prod/v2/" ||
		prefixes.Prefixes[1].Blobs != "prod/v2/ns/" || prefixes.Prefixes[1].Verdict != "ok" ||
		len(prefixes.Rules) != 2 || prefixes.Rules[1].Prefix != "prod/v2/" || prefixes.Rules[1].Effect != "expires-unused-blobs" {
		t.Errorf("JSON per prefix %+v from %s", prefixes, b)
	}
}
