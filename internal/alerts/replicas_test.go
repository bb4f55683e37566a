package alerts

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// TestReplicasEvaluateEachDueTimeOnce: two replicas on one PostgreSQL
// database tick at the same moments; every due time of the rule is
// evaluated once and every notification is delivered once.
func TestReplicasEvaluateEachDueTimeOnce(t *testing.T) {
	url := storetest.PostgresSchema(t)
	var posts atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { posts.Add(1) }))
	defer recv.Close()
	group, _ := json.Marshal(map[string]any{"properties": map[string]any{"groupShortName": "g", "enabled": true,
		"webhookReceivers": []any{map[string]any{"name": "hook", "serviceUri": recv.URL, "useCommonAlertSchema": true}}}})
	c := &clock{t: time.Date(2026, 12, 6, 10, 0, 1, 0, time.UTC)}
	var queries atomic.Int32
	violating := atomic.Bool{}
	violating.Store(true)
	replica := func(owner string) *Service {
		st, err := store.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		svc, err := New(Options{Store: st, Source: fakeSource{rule: ruleJSON(nil), group: group}, Now: c.now, Owner: owner,
			Query: func(context.Context, string, string, time.Time, time.Time) (*Table, error) {
				queries.Add(1)
				t := &Table{Columns: []Column{{"c", "string"}}}
				if violating.Load() {
					t.Rows = [][]any{{"x"}}
				}
				return t, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	a, b := replica("replica-a"), replica("replica-b")
	tickBoth := func() {
		var wg sync.WaitGroup
		for _, s := range []*Service{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Tick(context.Background()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	tickBoth()
	if q, p := queries.Load(), posts.Load(); q != 1 || p != 1 {
		t.Fatalf("first due time: %d queries, %d notifications; want 1 and 1", q, p)
	}
	for range 3 { // three more due times, violated: no new notification
		c.add(5 * time.Minute)
		tickBoth()
	}
	violating.Store(false)
	for range 4 { // quiet for 15 minutes: resolved once
		c.add(5 * time.Minute)
		tickBoth()
	}
	if q, p := queries.Load(), posts.Load(); q != 8 || p != 2 {
		t.Errorf("after 8 due times: %d queries, %d notifications; want 8 and 2", q, p)
	}
}
