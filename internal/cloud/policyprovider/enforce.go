package policyprovider

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/steward-gov/steward/internal/policy"
)

// entry is one compiled assignment with what a denial reports about it.
type entry struct {
	id, name, display, scope string
	notScopes                []string
	parameters               any
	defID                    string
	isSet                    bool
	// names maps a lower-case definition ID to its name and display name.
	names map[string][2]string
	// Assigned keeps the assignment's real scope (for compliance); eval is
	// the same compiled policy with the scope check left to the hook, which
	// knows the management-group hierarchy.
	assigned, eval *policy.Assigned
	// group is what the entry shares with identical assignments.
	group    *group
	enforced bool
}

// exemption is a parsed exemption with its scope kept apart: the hook
// decides containment with the management-group hierarchy, which the
// policy package's scope comparison does not know.
type exemption struct {
	scope string
	x     *policy.Exemption
}

// compiled is the cache: assignments indexed by lower-case scope, and the
// parsed exemptions, as of generation gen.
type compiled struct {
	gen        uint64
	byScope    map[string][]*entry
	all        []*entry
	exemptions []*policy.Exemption
	// exemptionsOf indexes the exemptions by lower-case assignment ID.
	exemptionsOf map[string][]exemption
	// nGroups is the number of distinct groups.
	nGroups int
}

// current returns the cache, rebuilding it when a policy write happened
// since it was built.
func (p *Provider) current(ctx context.Context) (*compiled, error) {
	g := p.gen.Load()
	p.mu.Lock()
	defer p.mu.Unlock()
	local := p.cache == nil || p.cache.gen != g
	elsewhere := false
	if p.shared != nil {
		if local {
			// Rebuilding anyway: what the rebuild reads covers every
			// write counted so far, here or elsewhere.
			p.shared.Sync(ctx)
		} else {
			elsewhere = p.shared.Changed(ctx)
		}
	}
	if !local && !elsewhere {
		return p.cache, nil
	}
	c, err := p.build(ctx, g)
	if err != nil {
		if p.shared != nil {
			p.shared.Forget()
		}
		return nil, err
	}
	p.cache = c
	return c, nil
}

// build compiles every stored assignment and parses every exemption.
// Assignments that no longer compile (their definition was deleted) are
// left out: they cannot be enforced.
func (p *Provider) build(ctx context.Context, gen uint64) (*compiled, error) {
	ctx = withMemo(ctx)
	out := &compiled{gen: gen, byScope: map[string][]*entry{}, exemptionsOf: map[string][]exemption{}}
	groups := map[string]*group{}
	as, err := p.listAll(ctx, TypeAssignment, nil)
	if err != nil {
		return nil, err
	}
	res := p.resolvers(ctx)
	for _, r := range as {
		b, _ := json.Marshal(r.Doc)
		a, err := policy.ParseAssignment(b)
		if err != nil {
			continue
		}
		// Assignments that compile to the same thing share the compiled
		// policy (it is read-only); only the first of them is compiled.
		key := groupKey(a)
		g := groups[key]
		var x *policy.Assigned
		if g != nil {
			x = &policy.Assigned{Assignment: a, Policy: g.eval.Policy, Set: g.eval.Set}
		} else if x, err = policy.CompileAssignment(a, res, policy.CompileOptions{Aliases: p.opts.Aliases, AllowUnknownAliases: true}); err != nil {
			continue
		}
		unscoped := *a
		unscoped.Scope, unscoped.NotScopes = "", nil
		ev := policy.Assigned{Assignment: &unscoped, Policy: x.Policy, Set: x.Set}
		if g == nil {
			g = &group{idx: len(groups), eval: &ev, mutating: mayMutate(x), usesContext: usesContext(x),
				names: p.definitionNames(ctx, a.PolicyDefinitionID, x)}
			groups[key] = g
		}
		e := &entry{id: a.ID, name: a.Name, display: a.DisplayName, scope: a.Scope, notScopes: a.NotScopes,
			parameters: propsOf(r.Doc)["parameters"], defID: a.PolicyDefinitionID, isSet: x.Set != nil,
			names: g.names, assigned: x, eval: &ev, enforced: a.Enforced()}
		e.group = g
		k := strings.ToLower(scopeOf(a.Scope))
		out.byScope[k] = append(out.byScope[k], e)
		out.all = append(out.all, e)
	}
	out.nGroups = len(groups)
	xs, err := p.listAll(ctx, TypeExemption, nil)
	if err != nil {
		return nil, err
	}
	for _, r := range xs {
		b, _ := json.Marshal(r.Doc)
		if ex, err := policy.ParseExemption(b); err == nil {
			out.exemptions = append(out.exemptions, ex)
			k := strings.ToLower(ex.PolicyAssignmentID)
			unscoped := *ex
			unscoped.Scope = ""
			out.exemptionsOf[k] = append(out.exemptionsOf[k], exemption{scope: strings.ToLower(scopeOf(ex.Scope)), x: &unscoped})
		}
	}
	return out, nil
}

// definitionNames collects the names and display names of the assigned
// definition or set and its members, for denial messages.
func (p *Provider) definitionNames(ctx context.Context, defID string, x *policy.Assigned) map[string][2]string {
	names := map[string][2]string{}
	ids := []string{defID}
	k := kindDefinition
	if x.Set != nil {
		k = kindSet
		for _, m := range x.Set.Members {
			ids = append(ids, m.DefinitionID)
		}
	}
	for i, id := range ids {
		kk := kindDefinition
		if i == 0 {
			kk = k
		}
		doc, err := p.lookup(ctx, kk, id)
		if err != nil {
			continue
		}
		names[strings.ToLower(id)] = [2]string{stringAt(doc, "name"), stringAt(doc, "properties", "displayName")}
	}
	return names
}

// Assignments returns the compiled assignments (with their scopes) and
// exemptions as the hook currently enforces them, for compliance
// evaluation. Management-group scopes need the caller to check containment
// with cloud.ScopeAncestry.
func (p *Provider) Assignments(ctx context.Context) ([]*policy.Assigned, []*policy.Exemption, error) {
	c, err := p.current(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*policy.Assigned, 0, len(c.all))
	for _, e := range c.all {
		out = append(out, e.assigned)
	}
	return out, c.exemptions, nil
}

// inScope returns the assignments whose scope holds id and none of whose
// notScopes do.
func (p *Provider) inScope(c *compiled, anc map[string]bool) []*entry {
	n := 0
	for s := range anc {
		n += len(c.byScope[s])
	}
	if n == 0 {
		return nil
	}
	out := make([]*entry, 0, n)
	for s := range anc {
	next:
		for _, e := range c.byScope[s] {
			for _, ns := range e.notScopes {
				if anc[strings.ToLower(ns)] {
					continue next
				}
			}
			out = append(out, e)
		}
	}
	return out
}
