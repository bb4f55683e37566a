package insights_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/store"
)

// queuedJobs returns the scans queued in the engine's table, by scope:
// the assignment each is limited to, or "full".
func queuedJobs(t *testing.T, st store.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	ctx := context.Background()
	err := st.View(ctx, func(tx store.Tx) error {
		page, err := tx.Scan(ctx, insights.JobsTable, store.Query{Limit: store.MaxPageSize})
		for _, r := range page.Records {
			var j struct {
				Assignment string `json:"assignment"`
				Full       bool   `json:"full"`
			}
			if err := json.Unmarshal(r.Value, &j); err != nil {
				return err
			}
			out[r.Key] = j.Assignment
			if j.Full {
				out[r.Key] = "full"
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDefinitionChangeScansItsAssignments: a definition that one
// assignment uses queues that assignment's scan, not a full scan of its
// scope, and the scan brings its states up to date; a definition that
// more assignments use than are scanned one by one queues full scans.
func TestDefinitionChangeScansItsAssignments(t *testing.T) {
	est := newBenchEstate(t, 40)
	ctx := context.Background()
	sub := "/subscriptions/" + est.sub
	if err := est.engine.ScanScope(ctx, sub); err != nil {
		t.Fatal(err)
	}
	def := sub + "/providers/Microsoft.Authorization/policyDefinitions/def00"
	a00 := sub + "/providers/Microsoft.Authorization/policyAssignments/a00"
	nonCompliant := func() int {
		q := &insights.Query{Top: -1, To: time.Now().Add(time.Hour), Scope: sub,
			Keep: func(s *insights.State) bool { return s.State == policy.StateNonCompliant }}
		page, err := est.engine.Run(ctx, q, sub, insights.PageToken{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range page.Rows {
			if v, _ := r.Get("policydefinitionname"); v == "def00" {
				n++
			}
		}
		return n
	}
	before := nonCompliant()
	// httpsOnly must now be false: the benchmark's sites all have it.
	doc := map[string]any{"id": def, "type": insights.TypeDefinition, "name": "def00", "properties": benchDefinition(0, benchTypes)}
	doc["properties"].(map[string]any)["policyRule"].(map[string]any)["if"].(map[string]any)["allOf"].([]any)[1] =
		map[string]any{"field": benchTypes[0] + "/httpsOnly", "equals": true}
	if _, _, err := est.c.Put(ctx, nil, cloud.PutRequest{ID: def, Type: insights.TypeDefinition, Doc: doc}); err != nil {
		t.Fatal(err)
	}
	if got := queuedJobs(t, est.c.Store()); len(got) != 1 || got[strings.ToLower(sub)] != strings.ToLower(a00) {
		t.Fatalf("queued after the definition changed: %v, want the scan of a00 at %s", got, sub)
	}
	for est.engine.RunPending(ctx) > 0 {
	}
	// 40 resources, 10 sites: none was non-compliant, all are now.
	if after := nonCompliant(); before != 0 || after != 10 {
		t.Errorf("sites non-compliant with def00: %d before, %d after; want 0 and 10", before, after)
	}

	// Three more assignments of def00, at resource groups: four use it.
	for g := 1; g <= 3; g++ {
		rg := fmt.Sprintf("%s/resourceGroups/rg%03d", sub, g)
		id := rg + "/providers/Microsoft.Authorization/policyAssignments/more"
		if _, _, err := est.c.Put(ctx, nil, cloud.PutRequest{ID: id, Type: insights.TypeAssignment, Doc: map[string]any{
			"id": id, "type": insights.TypeAssignment, "name": "more",
			"properties": map[string]any{"policyDefinitionId": def, "scope": rg}}}); err != nil {
			t.Fatal(err)
		}
	}
	for est.engine.RunPending(ctx) > 0 {
	}
	doc["properties"] = benchDefinition(0, benchTypes)
	if _, _, err := est.c.Put(ctx, nil, cloud.PutRequest{ID: def, Type: insights.TypeDefinition, Doc: doc}); err != nil {
		t.Fatal(err)
	}
	got := queuedJobs(t, est.c.Store())
	if len(got) != 4 || got[strings.ToLower(sub)] != "full" {
		t.Fatalf("queued after a definition four assignments use changed: %v, want full scans of their scopes", got)
	}
	for est.engine.RunPending(ctx) > 0 {
	}
	if after := nonCompliant(); after != 0 {
		t.Errorf("%d states of def00 non-compliant after it was changed back, want 0", after)
	}
}
