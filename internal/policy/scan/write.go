package scan

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/steward-gov/steward/internal/policy"
)

// NextWrite is what an effect would do to a resource the next time it is
// written (created or updated), as the request pipeline applies effects.
type NextWrite struct {
	// Action is deny, append, modify, deployIfNotExists, denyAction,
	// or none (audit effects and DoNotEnforce assignments).
	Action string `json:"action"`
	// Denied reports that the write would be rejected
	// (RequestDisallowedByPolicy): deny, an append that would change a
	// value, a modify conflict whose conflictEffect is deny.
	Denied bool `json:"denied"`
	// Changes are the fields append and modify would set or remove.
	Changes []Change `json:"changes,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// Change is one field an append or modify operation would change.
type Change struct {
	Operation string `json:"operation"`
	Field     string `json:"field"`
	// Current is the field's value in the export (nil when missing).
	Current any `json:"current"`
	// Value is what the operation writes (nil for remove).
	Value any `json:"value,omitempty"`
	// Condition is the operation's condition, evaluated at write time.
	Condition string `json:"condition,omitempty"`
}

// nextWrite describes the write-time action of a non-compliant result.
func nextWrite(r *policy.Result, res *policy.Resource, enforced bool, aliases *policy.AliasTable) *NextWrite {
	w := &NextWrite{Action: "none"}
	switch r.Effect {
	case policy.EffectDeny:
		w.Action, w.Denied = "deny", true
	case policy.EffectAppend:
		w.Action = "append"
		list, _ := r.Details.([]any)
		for _, e := range list {
			em, _ := e.(map[string]any)
			field := lookupString(em, "field")
			value, _ := lookup(em, "value")
			cur, ok := readField(res, field, aliases)
			w.Changes = append(w.Changes, Change{Operation: "append", Field: field, Current: cur, Value: value})
			if ok && !strings.Contains(field, "[*]") && !reflect.DeepEqual(cur, value) {
				w.Denied = true
				w.Note = "append would change an existing value of " + field + ": Azure denies such a request"
			}
		}
	case policy.EffectModify:
		w.Action = "modify"
		dm, _ := r.Details.(map[string]any)
		ops, _ := lookup(dm, "operations")
		list, _ := ops.([]any)
		for _, o := range list {
			om, _ := o.(map[string]any)
			field := lookupString(om, "field")
			value, _ := lookup(om, "value")
			cur, _ := readField(res, field, aliases)
			c := Change{Operation: lookupString(om, "operation"), Field: field, Current: cur, Value: value}
			if cond, ok := lookup(om, "condition"); ok {
				c.Condition = jsonText(cond)
				if strings.HasPrefix(c.Condition, "[[") {
					c.Condition = c.Condition[1:]
				}
			}
			w.Changes = append(w.Changes, c)
		}
		conflict := strings.ToLower(lookupString(dm, "conflictEffect"))
		if conflict == "" {
			conflict = "deny"
		}
		w.Note = "if an operation cannot be applied (a field not modifiable in the request's api-version), conflictEffect " + conflict + " applies"
	case policy.EffectDeployIfNotExists:
		w.Action = "deployIfNotExists"
		dm, _ := r.Details.(map[string]any)
		w.Note = "after the write succeeds, a remediation deployment would create or update the related " + lookupString(dm, "type")
	case policy.EffectDenyAction:
		w.Action, w.Note = "denyAction", "delete requests are denied"
	}
	if !enforced && w.Action != "none" {
		w.Note = "enforcementMode DoNotEnforce: " + w.Action + " is not applied (compliance is still reported)"
		w.Action, w.Denied = "none", false
	}
	return w
}

// readField reads the value a field or alias names in a resource
// document: built-in fields (name, location, tags...), tags['x'], and
// aliases through the alias table (else the documented default rule:
// Namespace/type/a.b is properties.a.b). Paths with [*] are not read.
func readField(res *policy.Resource, field string, aliases *policy.AliasTable) (any, bool) {
	doc := res.Document()
	low := strings.ToLower(field)
	var path []string
	switch {
	case strings.HasPrefix(low, "tags[") || strings.HasPrefix(low, "tags."):
		key := strings.Trim(field[4:], ".[]'")
		path = []string{"tags", key}
	case !strings.Contains(field, "/"):
		path = strings.Split(field, ".")
	default:
		p := ""
		if aliases != nil {
			if a, ok := aliases.Lookup(field); ok {
				p, _ = a.PathFor(lookupString(doc, "apiVersion"))
			}
		}
		if p == "" {
			parts := strings.Split(field, "/")
			p = "properties." + parts[len(parts)-1]
		}
		if strings.Contains(p, "[*]") {
			return nil, false
		}
		path = strings.Split(p, ".")
	}
	var cur any = doc
	for _, seg := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = lookup(m, seg); !ok {
			return nil, false
		}
	}
	return cur, true
}

// jsonText renders a value compactly for tables and CSV.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
