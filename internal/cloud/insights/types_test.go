package insights

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/steward-gov/steward/internal/policy"
)

// TestConditionTypes: the types an if condition restricts a rule to, and
// the conditions from which none can be told (nil: every type).
func TestConditionTypes(t *testing.T) {
	for _, c := range []struct{ cond, want string }{
		{`{"field": "type", "equals": "Microsoft.Web/sites"}`, "[microsoft.web/sites]"},
		{`{"field": "Type", "in": ["A/b", "C/d"]}`, "[a/b c/d]"},
		{`{"allOf": [{"field": "location", "equals": "x"}, {"field": "type", "equals": "A/b"}]}`, "[a/b]"},
		{`{"allOf": [{"field": "type", "in": ["A/b", "C/d"]}, {"field": "type", "notEquals": "C/d"}, {"field": "type", "in": ["c/D", "e/f"]}]}`, "[c/d]"},
		{`{"anyOf": [{"field": "type", "equals": "A/b"}, {"allOf": [{"field": "type", "equals": "C/d"}, {"field": "name", "like": "x*"}]}]}`, "[a/b c/d]"},
		{`{"anyOf": [{"field": "type", "equals": "A/b"}, {"field": "name", "equals": "x"}]}`, "every type"},
		{`{"not": {"field": "type", "equals": "A/b"}}`, "every type"},
		{`{"field": "type", "notEquals": "A/b"}`, "every type"},
		{`{"field": "type", "like": "A/*"}`, "every type"},
		{`{"field": "type", "equals": "[parameters('t')]"}`, "every type"},
		{`{"value": "[field('type')]", "equals": "A/b"}`, "every type"},
		{`{"field": "location", "equals": "x"}`, "every type"},
	} {
		var cond any
		if err := json.Unmarshal([]byte(c.cond), &cond); err != nil {
			t.Fatal(err)
		}
		def, err := policy.ParseDefinition(mustJSON(t, map[string]any{"properties": map[string]any{"mode": "All",
			"policyRule": map[string]any{"if": cond, "then": map[string]any{"effect": "audit"}}}}))
		if err != nil {
			t.Fatalf("%s: %v", c.cond, err)
		}
		got := "every type"
		if ts := conditionTypes(def.Rule.If); ts != nil {
			var l []string
			for k := range ts {
				l = append(l, k)
			}
			sort.Strings(l)
			got = fmt.Sprint(l)
		}
		if got != c.want {
			t.Errorf("%s: %s, want %s", c.cond, got, c.want)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
