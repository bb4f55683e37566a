package insights_test

import (
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/cloud/insights"
)

// Resource groups are evaluated with the type policy rules use for them
// (Microsoft.Resources/subscriptions/resourceGroups), not the type ARM
// documents them with, as the built-in "Audit resource location matches
// resource group location" and tag policies on resource groups expect.
func TestResourceGroupsHaveComplianceStates(t *testing.T) {
	e := newEnv(t, insights.Options{})
	sub := "/subscriptions/" + e.sub
	e.put(t, e.rg("untagged"), "2021-04-01", map[string]any{"location": "westeurope"})
	e.put(t, e.rg("tagged"), "2021-04-01", map[string]any{"location": "westeurope", "tags": map[string]any{"owner": "platform"}})
	def := sub + "/providers/Microsoft.Authorization/policyDefinitions/rg-owner"
	e.put(t, def, "2023-04-01", map[string]any{"properties": map[string]any{"mode": "All",
		"policyRule": map[string]any{
			"if": map[string]any{"allOf": []any{
				map[string]any{"field": "type", "equals": "Microsoft.Resources/subscriptions/resourceGroups"},
				map[string]any{"field": "tags['owner']", "exists": false},
			}},
			"then": map[string]any{"effect": "audit"},
		}}})
	e.assign(t, sub, "rg-owner", def, nil)
	e.waitIdle(t)
	got := strings.Join(e.states(t, sub, nil), " ")
	want := "tagged/rg-owner=Compliant untagged/rg-owner=NonCompliant"
	if got != want {
		t.Errorf("states = %s, want %s", got, want)
	}
}
