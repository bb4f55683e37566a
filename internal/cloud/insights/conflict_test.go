package insights_test

import (
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/cloud/insights"
)

// Two assignments whose modify operations would set one tag to different
// values leave an existing resource Conflicting under both (Learn,
// compliance states: "Conflicting").
func TestContradictingModifyAssignmentsAreConflicting(t *testing.T) {
	e := newEnv(t, insights.Options{})
	sub := "/subscriptions/" + e.sub
	e.put(t, e.rg("a"), "2021-04-01", map[string]any{"location": "westeurope"})
	e.storage(t, "a", "sa1", true)
	for _, v := range []string{"blue", "green"} {
		def := sub + "/providers/Microsoft.Authorization/policyDefinitions/env-" + v
		e.put(t, def, "2023-04-01", map[string]any{"properties": map[string]any{"mode": "Indexed",
			"policyRule": map[string]any{
				"if": map[string]any{"allOf": []any{
					map[string]any{"field": "type", "equals": "Microsoft.Web/sites"},
					map[string]any{"field": "tags['env']", "notEquals": v},
				}},
				"then": map[string]any{"effect": "modify", "details": map[string]any{
					"roleDefinitionIds": []any{"/providers/microsoft.authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"},
					"operations":        []any{map[string]any{"operation": "addOrReplace", "field": "tags['env']", "value": v}},
				}},
			}}})
		e.assign(t, sub, "env-"+v, def, nil)
	}
	e.waitIdle(t)
	got := strings.Join(e.states(t, sub, nil), " ")
	want := "sa1/env-blue=Conflicting sa1/env-green=Conflicting"
	if got != want {
		t.Errorf("states = %s, want %s", got, want)
	}
	// Changing one assignment rescans it alone; the conflict stays.
	e.assign(t, sub, "env-green", sub+"/providers/Microsoft.Authorization/policyDefinitions/env-green",
		map[string]any{"description": "changed"})
	e.waitIdle(t)
	if got := strings.Join(e.states(t, sub, nil), " "); got != want {
		t.Errorf("after rescanning one assignment: states = %s, want %s", got, want)
	}
}
