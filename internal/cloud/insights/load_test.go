package insights_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/policy"
)

// TestLoadStates stores states in bulk and reads them back through the
// query engine: a resource's loaded states replace its stored ones, and a
// state without its IDs is refused.
func TestLoadStates(t *testing.T) {
	est := newBenchEstate(t, 0)
	ctx := context.Background()
	at := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	rg := fmt.Sprintf("/subscriptions/%s/resourceGroups/mrg-1", est.sub)
	a1, a2 := rg+"/providers/Microsoft.Authorization/policyAssignments/a1", rg+"/providers/Microsoft.Authorization/policyAssignments/a2"
	nsg := func(i int) string {
		return fmt.Sprintf("%s/providers/Microsoft.Network/networkSecurityGroups/nsg-%d", rg, i)
	}
	state := func(res, assignment string, c policy.ComplianceState) *insights.State {
		return &insights.State{Timestamp: at, ResourceID: res, ResourceType: "Microsoft.Network/networkSecurityGroups", AssignmentID: assignment,
			DefinitionID: "/providers/Microsoft.Authorization/policyDefinitions/0a914e76-4921-4c19-b460-a2d36003525a", State: c,
			ManagementGroups: []string{"tenant"}}
	}
	read := func() []string {
		t.Helper()
		q := &insights.Query{Top: -1, To: time.Now().Add(time.Hour), Scope: rg}
		page, err := est.engine.Run(ctx, q, strings.ToLower(rg), insights.PageToken{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range page.Rows {
			id, _ := r.Get("resourceid")
			a, _ := r.Get("policyassignmentname")
			c, _ := r.Get("compliancestate")
			out = append(out, fmt.Sprintf("%s %s %s", id.(string)[len(rg)+1:], a, c))
		}
		sort.Strings(out)
		return out
	}
	if err := est.engine.LoadStates(ctx, []*insights.State{state(nsg(1), a1, policy.StateCompliant), state(nsg(1), a2, policy.StateNonCompliant),
		state(nsg(2), a1, policy.StateNonCompliant)}); err != nil {
		t.Fatal(err)
	}
	want := []string{"providers/Microsoft.Network/networkSecurityGroups/nsg-1 a1 Compliant", "providers/Microsoft.Network/networkSecurityGroups/nsg-1 a2 NonCompliant",
		"providers/Microsoft.Network/networkSecurityGroups/nsg-2 a1 NonCompliant"}
	if got := read(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("loaded states read back as %q, want %q", got, want)
	}
	// nsg-1's states are replaced by its newly loaded one.
	later := state(nsg(1), a1, policy.StateNonCompliant)
	later.Timestamp = at.Add(time.Second)
	if err := est.engine.LoadStates(ctx, []*insights.State{later}); err != nil {
		t.Fatal(err)
	}
	want = []string{"providers/Microsoft.Network/networkSecurityGroups/nsg-1 a1 NonCompliant", "providers/Microsoft.Network/networkSecurityGroups/nsg-2 a1 NonCompliant"}
	if got := read(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after reloading nsg-1: %q, want %q", got, want)
	}
	if err := est.engine.LoadStates(ctx, []*insights.State{{ResourceID: nsg(3)}}); err == nil {
		t.Fatal("a state without an assignment was loaded")
	}
}
