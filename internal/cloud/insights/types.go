package insights

import (
	"strings"

	"github.com/steward-gov/steward/internal/policy"
)

// applicableTypes is the set of lower-case resource types an assignment
// can give states to, derived from its rules' conditions on the type
// field; nil when a rule does not restrict it (or not in a way read
// here), and then any type can. An assignment's scan decodes and
// evaluates only resources of these types (scan.go).
func applicableTypes(c *compiled) map[string]bool {
	if c == nil {
		return map[string]bool{} // no longer assigned: no type has states
	}
	var defs []*policy.Definition
	if c.src.Set != nil {
		for _, m := range c.src.Set.Members {
			if m.Policy == nil {
				return nil
			}
			defs = append(defs, m.Policy.Definition())
		}
	} else if c.src.Policy != nil {
		defs = append(defs, c.src.Policy.Definition())
	}
	if len(defs) == 0 {
		return nil
	}
	out := map[string]bool{}
	for _, d := range defs {
		if d == nil || d.Rule == nil {
			return nil
		}
		ts := conditionTypes(d.Rule.If)
		if ts == nil {
			return nil
		}
		for t := range ts {
			out[t] = true
		}
	}
	return out
}

// conditionTypes is the set of lower-case types a resource must have for
// c to hold, or nil when c holds for resources of any type as far as
// these rules can tell: a type field compared with equals or in to
// literal names; allOf needs one such member, anyOf all of them.
func conditionTypes(c *policy.Condition) map[string]bool {
	if c == nil {
		return nil
	}
	switch c.Kind {
	case policy.CondField:
		if !strings.EqualFold(c.Field, "type") {
			return nil
		}
		var names []any
		switch c.Op {
		case policy.OpEquals:
			names = []any{c.Operand}
		case policy.OpIn:
			names, _ = c.Operand.([]any)
		default:
			return nil
		}
		out := map[string]bool{}
		for _, n := range names {
			s, ok := n.(string)
			if !ok || strings.HasPrefix(s, "[") {
				return nil // an expression: not known before evaluation
			}
			out[strings.ToLower(s)] = true
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case policy.CondAllOf:
		var out map[string]bool
		for _, ch := range c.Children {
			ts := conditionTypes(ch)
			if ts == nil {
				continue
			}
			if out == nil {
				out = ts
				continue
			}
			for t := range out {
				if !ts[t] {
					delete(out, t)
				}
			}
		}
		return out
	case policy.CondAnyOf:
		out := map[string]bool{}
		for _, ch := range c.Children {
			ts := conditionTypes(ch)
			if ts == nil {
				return nil
			}
			for t := range ts {
				out[t] = true
			}
		}
		if len(c.Children) == 0 {
			return nil
		}
		return out
	}
	return nil
}
