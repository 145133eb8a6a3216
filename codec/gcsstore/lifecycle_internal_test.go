package gcsstore

import (
	"context"
	"testing"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/seed-a62fcf0e/longhaul/codec/retention"
)

// GCS conditions map to what retention.Check needs: daysSinceCustomTime counts from the
// refreshed time, age from creation; a Delete on .uploads/ is the parts' cleanup; one
// rule per matched prefix.
func TestLifecycleRules(t *testing.T) {
	client, err := storage.NewClient(context.Background(), option.WithoutAuthentication(),
		option.WithEndpoint("http://127.0.0.1:1/storage/v1/"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	s, err := New(client, "b", Options{Prefix: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	del := storage.LifecycleAction{Type: storage.DeleteAction}
	tests := []struct {
		name    string
		in      storage.LifecycleRule
		actions []retention.Action
		clock   retention.Clock
		days    int
	}{
		{"custom time", storage.LifecycleRule{Action: del, Condition: storage.LifecycleCondition{DaysSinceCustomTime: 39,
			MatchesPrefix: []string{"prod/v1/", "other/"}}}, []retention.Action{retention.Expire, retention.Expire}, retention.ClockRefreshed, 39},
		{"age", storage.LifecycleRule{Action: del, Condition: storage.LifecycleCondition{AgeInDays: 400}},
			[]retention.Action{retention.Expire}, retention.ClockCreated, 400},
		{"uploads", storage.LifecycleRule{Action: del, Condition: storage.LifecycleCondition{AgeInDays: 1,
			MatchesPrefix: []string{"prod/.uploads/"}}},
			[]retention.Action{retention.AbortUploads}, retention.ClockCreated, 1},
		{"noncurrent", storage.LifecycleRule{Action: del, Condition: storage.LifecycleCondition{DaysSinceNoncurrentTime: 1}},
			[]retention.Action{retention.ExpireNoncurrent}, retention.ClockRefreshed, 0},
		{"storage class", storage.LifecycleRule{Action: storage.LifecycleAction{Type: storage.SetStorageClassAction, StorageClass: "COLDLINE"},
			Condition: storage.LifecycleCondition{AgeInDays: 30}}, []retention.Action{retention.Other}, retention.ClockRefreshed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.lifecycleRules(tt.in)
			if len(got) != len(tt.actions) {
				t.Fatalf("got %d rules, want %d", len(got), len(tt.actions))
			}
			for i, r := range got {
				if r.Action != tt.actions[i] || r.Clock != tt.clock || r.Days != tt.days || !r.Enabled || r.Detail == "" {
					t.Errorf("rule %d: %+v", i, r)
				}
			}
		})
	}
}
