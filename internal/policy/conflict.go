package policy

import (
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// write is one change an append or modify member would make to a
// resource: a field set to a value, or removed.
type write struct {
	member *MemberResult
	owner  string // assignment ID and reference ID, for messages
	field  string // the field as written
	key    string // the field normalised for comparison
	value  any
	remove bool
	// denies is true when a conflict on this write denies: append always,
	// modify unless its conflictEffect is audit or disabled.
	denies bool
}

// MarkConflicts finds, among the results of the assignments in scope of
// one resource, the append and modify members that would set the same
// field to different values (or one set it while another removes it),
// and gives them the Conflicting state, then rolls each assignment's
// state up again. compliance-states.md calls an assignment conflicting
// when assignments in the same scope have contradicting rules ("two
// definitions that append the same tag with different values");
// effect-modify.md says existing resources are Conflict when more than
// one of the conflicting definitions has the conflictEffect deny, and
// each stays NonCompliant otherwise. So a set of contradicting writes is
// Conflicting when at least two of its members deny (append counts as
// deny: its conflicts act as a deny), and only those members change
// state. Each member marked lists the members it conflicts with in
// ConflictsWith.
//
// Only NonCompliant members take part (an exempt or compliant member
// changes nothing), and a modify operation with a condition is left out:
// whether it applies is decided when it is applied. Adding members to an
// array ("x[*]" with append or add) never conflicts.
func MarkConflicts(results []AssignmentResult) {
	byKey := map[string][]write{}
	var keys []string
	for i := range results {
		ar := &results[i]
		for j := range ar.Members {
			for _, w := range memberWrites(ar.AssignmentID, &ar.Members[j]) {
				if _, ok := byKey[w.key]; !ok {
					keys = append(keys, w.key)
				}
				byKey[w.key] = append(byKey[w.key], w)
			}
		}
	}
	changed := false
	for _, k := range keys {
		ws := byKey[k]
		if !contradicts(ws) {
			continue
		}
		denying := 0
		for _, w := range ws {
			if w.denies {
				denying++
			}
		}
		if denying < 2 {
			continue
		}
		for _, w := range ws {
			if !w.denies {
				continue
			}
			w.member.State = StateConflicting
			changed = true
			for _, o := range ws {
				if o.member != w.member && o.denies {
					w.member.ConflictsWith = appendUnique(w.member.ConflictsWith, o.owner+": "+o.field)
				}
			}
		}
	}
	if !changed {
		return
	}
	for i := range results {
		states := make([]ComplianceState, len(results[i].Members))
		for j, m := range results[i].Members {
			states[j] = m.State
		}
		if len(states) > 0 {
			results[i].State = memberRollup(states)
		}
	}
}

// contradicts reports whether writes to one field disagree: two members
// set different values, or one sets and another removes.
func contradicts(ws []write) bool {
	for i := 1; i < len(ws); i++ {
		for j := 0; j < i; j++ {
			a, b := ws[i], ws[j]
			if a.member == b.member {
				continue
			}
			if a.remove != b.remove || (!a.remove && !looseEqual(a.value, b.value)) {
				return true
			}
		}
	}
	return false
}

// memberWrites lists the writes of a NonCompliant append or modify member.
func memberWrites(assignmentID string, m *MemberResult) []write {
	if m.State != StateNonCompliant {
		return nil
	}
	owner := assignmentID
	if m.ReferenceID != "" {
		owner += "/" + m.ReferenceID
	}
	var out []write
	switch m.Effect {
	case EffectAppend:
		list, _ := m.Details.([]any)
		for _, e := range list {
			em, _ := e.(map[string]any)
			field := stringAt(em, "field")
			if field == "" || strings.HasSuffix(field, "[*]") {
				continue
			}
			v, _ := armexpr.Lookup(em, "value")
			out = append(out, write{member: m, owner: owner, field: field, key: fieldKey(field), value: v, denies: true})
		}
	case EffectModify:
		dm, _ := m.Details.(map[string]any)
		denies := true
		switch strings.ToLower(stringAt(dm, "conflictEffect")) {
		case "audit", "disabled":
			denies = false
		}
		ops, _ := armexpr.Lookup(dm, "operations")
		list, _ := ops.([]any)
		for _, o := range list {
			om, _ := o.(map[string]any)
			if _, cond := armexpr.Lookup(om, "condition"); cond {
				continue
			}
			field, op := stringAt(om, "field"), strings.ToLower(stringAt(om, "operation"))
			if field == "" || (op == "add" && strings.HasSuffix(field, "[*]")) {
				continue
			}
			v, _ := armexpr.Lookup(om, "value")
			out = append(out, write{member: m, owner: owner, field: field, key: fieldKey(field), value: v,
				remove: op == "remove", denies: denies})
		}
	}
	return out
}

// fieldKey normalises a field for comparison: case is ignored and the
// tag forms tags['x'], tags[x] and tags.x are one.
func fieldKey(field string) string {
	k := strings.ToLower(strings.TrimSpace(field))
	if strings.HasPrefix(k, "tags[") && strings.HasSuffix(k, "]") {
		name := strings.Trim(k[len("tags["):len(k)-1], "'")
		return "tags." + name
	}
	return k
}

func appendUnique(list []string, s string) []string {
	for _, e := range list {
		if e == s {
			return list
		}
	}
	return append(list, s)
}
