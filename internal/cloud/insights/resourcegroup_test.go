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

// During compliance evaluation no request is in flight; Azure documents
// that requestContext().apiVersion is then the latest api-version of the
// type. Built-in modify definitions gate operations on it
// ("[greaterOrEquals(requestContext().apiVersion, '2019-04-01')]"), so it
// must be there rather than missing (an evaluation error).
func TestComplianceEvaluationSeesTheLatestAPIVersion(t *testing.T) {
	e := newEnv(t, insights.Options{})
	sub := "/subscriptions/" + e.sub
	e.put(t, e.rg("a"), "2021-04-01", map[string]any{"location": "westeurope"})
	tests := []struct {
		name, op, version, want string
	}{
		{"latest is at least an old version", "greaterOrEquals", "2019-04-01", "a/rc-0=NonCompliant"},
		{"latest is the route's newest", "equals", "2025-04-01", "a/rc-1=NonCompliant"},
		{"not the version the resource was written with", "equals", "2021-04-01", "a/rc-2=Compliant"},
	}
	var want []string
	for i, tt := range tests {
		name := "rc-" + string(rune('0'+i))
		def := sub + "/providers/Microsoft.Authorization/policyDefinitions/" + name
		e.put(t, def, "2023-04-01", map[string]any{"properties": map[string]any{"mode": "All",
			"policyRule": map[string]any{
				"if": map[string]any{"allOf": []any{
					map[string]any{"field": "type", "equals": "Microsoft.Resources/subscriptions/resourceGroups"},
					map[string]any{"value": "[" + tt.op + "(requestContext().apiVersion, '" + tt.version + "')]", "equals": true},
				}},
				"then": map[string]any{"effect": "audit"},
			}}})
		e.assign(t, sub, name, def, nil)
		want = append(want, tt.want)
	}
	e.waitIdle(t)
	got := strings.Join(e.states(t, sub, nil), " ")
	if got != strings.Join(want, " ") {
		t.Errorf("states = %s, want %s (%v)", got, strings.Join(want, " "), tests)
	}
}
