package policyprovider

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/steward-gov/steward/internal/policy"
)

// group is the assignments that compile to the same thing: the same
// definition or set with the same parameters, overrides and resource
// selectors. A request evaluates a group once and applies the result to
// each of its assignments (their enforcement modes and exemptions differ).
type group struct {
	// idx numbers the groups of a cache from 0.
	idx  int
	eval *policy.Assigned
	// mutating is false when no member can append or modify (its effect
	// is a literal other than those), so the first pass skips the group.
	mutating bool
	// usesContext is set when a member calls resourceGroup() or
	// subscription(), so the request loads those documents.
	usesContext bool
	// names are the definition names of the group's members (see entry).
	names map[string][2]string
}

// groupKey identifies what an assignment compiles to.
func groupKey(a *policy.Assignment) string {
	b, _ := json.Marshal([]any{strings.ToLower(a.PolicyDefinitionID), a.DefinitionVersion, a.Parameters, a.Overrides, a.ResourceSelectors})
	return string(b)
}

// mayMutate reports whether a compiled assignment has a member whose
// effect could be append or modify: a literal of those, or an expression
// (a parameter) that could become one.
func mayMutate(x *policy.Assigned) bool {
	if len(x.Assignment.Overrides) > 0 {
		return true
	}
	var defs []*policy.Policy
	if x.Set != nil {
		for _, m := range x.Set.Members {
			defs = append(defs, m.Policy)
		}
	} else {
		defs = append(defs, x.Policy)
	}
	for _, p := range defs {
		var then struct {
			Then struct {
				Effect string `json:"effect"`
			} `json:"then"`
		}
		d := p.Definition()
		if d == nil || d.Rule == nil {
			return true
		}
		b, err := json.Marshal(d.Rule)
		if err != nil || json.Unmarshal(b, &then) != nil {
			return true
		}
		e := strings.ToLower(strings.TrimSpace(then.Then.Effect))
		if e == "" || strings.HasPrefix(e, "[") || e == "append" || e == "modify" {
			return true
		}
	}
	return false
}

// usesContext reports whether a compiled assignment's rules call
// resourceGroup() or subscription().
func usesContext(x *policy.Assigned) bool {
	var defs []*policy.Policy
	if x.Set != nil {
		for _, m := range x.Set.Members {
			defs = append(defs, m.Policy)
		}
	} else {
		defs = append(defs, x.Policy)
	}
	for _, p := range defs {
		d := p.Definition()
		if d == nil || d.Rule == nil {
			continue
		}
		b, _ := json.Marshal(d.Rule)
		l := strings.ToLower(string(b))
		if strings.Contains(l, "resourcegroup()") || strings.Contains(l, "subscription()") {
			return true
		}
	}
	return false
}

// decision is the outcome of a write request.
type decision struct {
	doc      map[string]any
	modified bool
	denials  []policy.PolicyReport
}

// decide evaluates a write against the assignments in scope in the
// documented order: append and modify change the request, then deny is
// decided on the changed request. Assignments with DoNotEnforce and
// exempted members never change or deny it.
func (p *Provider) decide(ctx context.Context, c *compiled, entries []*entry, anc map[string]bool, doc map[string]any, opts policy.EvalOptions) decision {
	groups, members := groupEntries(entries, c.nGroups)
	d := decision{doc: doc}
	res := policy.NewResource(doc)
	// Pass 1: append and modify, each on the document the previous produced.
	for _, g := range groups {
		if !g.mutating {
			continue
		}
		for _, e := range members[g.idx] {
			if !e.enforced {
				continue
			}
			r := g.eval.Evaluate(ctx, res, nil, opts.Now, opts)
			for _, m := range r.Members {
				if (m.Effect != policy.EffectAppend && m.Effect != policy.EffectModify) || c.exempt(e, m.ReferenceID, anc, res, opts) {
					continue
				}
				rep := policy.PolicyReport{AssignmentID: e.id, DefinitionID: m.DefinitionID, ReferenceID: m.ReferenceID, Effect: m.Effect}
				mutated, err := memberPolicy(g.eval, m.ReferenceID).Mutate(ctx, res, m.Result, opts)
				var ce *policy.ConflictError
				switch {
				case errors.As(err, &ce):
					if m.Effect == policy.EffectAppend || ce.ConflictEffect == "deny" {
						rep.Reason = ce.Error()
						d.denials = append(d.denials, rep)
					}
				case err != nil:
					rep.Reason = err.Error()
					d.denials = append(d.denials, rep)
				default:
					res, d.doc, d.modified = policy.NewResource(mutated), mutated, true
				}
			}
		}
	}
	// Pass 2: deny on the changed request, once per group.
	for _, g := range groups {
		r := g.eval.Evaluate(ctx, res, nil, opts.Now, opts)
		for _, e := range members[g.idx] {
			if !e.enforced {
				continue
			}
			for _, m := range r.Members {
				if (m.State != policy.StateError && m.Effect != policy.EffectDeny) || c.exempt(e, m.ReferenceID, anc, res, opts) {
					continue
				}
				rep := policy.PolicyReport{AssignmentID: e.id, DefinitionID: m.DefinitionID, ReferenceID: m.ReferenceID, Effect: m.Effect}
				if m.State == policy.StateError {
					rep.Reason = m.Error
				}
				d.denials = append(d.denials, rep)
			}
		}
	}
	return d
}

// groupEntries orders the groups of the entries by first appearance and
// lists each group's entries by group index.
func groupEntries(entries []*entry, n int) ([]*group, [][]*entry) {
	var order []*group
	members := make([][]*entry, n)
	for _, e := range entries {
		i := e.group.idx
		if members[i] == nil {
			order = append(order, e.group)
		}
		members[i] = append(members[i], e)
	}
	return order, members
}

// memberPolicy is the compiled policy of a member (the definition itself
// for a single-definition assignment).
func memberPolicy(x *policy.Assigned, ref string) *policy.Policy {
	if x.Set == nil {
		return x.Policy
	}
	for _, m := range x.Set.Members {
		if m.ReferenceID == ref {
			return m.Policy
		}
	}
	return x.Policy
}

// exempt reports whether an exemption covers a member of an assignment
// for the resource.
func (c *compiled) exempt(e *entry, ref string, anc map[string]bool, res *policy.Resource, opts policy.EvalOptions) bool {
	for _, x := range c.exemptionsOf[strings.ToLower(e.id)] {
		if anc[x.scope] && x.x.Covers(e.id, ref, "", res, opts.Now) {
			return true
		}
	}
	return false
}
