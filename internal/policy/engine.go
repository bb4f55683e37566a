package policy

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Assigned is a compiled assignment: the assignment with its definition
// or set compiled against the assigned parameter values.
type Assigned struct {
	Assignment *Assignment
	// Exactly one of Policy and Set is set.
	Policy *Policy
	Set    *CompiledSet

	// The member list and what policy() returns for each member are the
	// same for every resource: made once, on first use, and shared
	// read-only by concurrent evaluations.
	prep     sync.Once
	members  []*CompiledMember
	policies []map[string]any
	setID    string
}

// prepare fills the per-member data Evaluate shares across resources.
func (x *Assigned) prepare() {
	x.prep.Do(func() {
		if x.Set != nil {
			x.members, x.setID = x.Set.Members, x.Set.Set.ID
		} else {
			x.members = []*CompiledMember{{SetMember: &SetMember{DefinitionID: x.Assignment.PolicyDefinitionID}, Policy: x.Policy}}
		}
		base := map[string]any{"assignmentId": x.Assignment.ID}
		x.policies = make([]map[string]any, len(x.members))
		for i, m := range x.members {
			x.policies[i] = withReference(base, m.ReferenceID, m.DefinitionID, x.setID)
		}
	})
}

// Resolvers find definitions and set definitions by ID.
type Resolvers struct {
	Definition DefinitionResolver
	Set        func(id string) (*SetDefinition, error)
}

// CompileAssignment compiles what an assignment assigns, binding its
// parameters (opts.Parameters is ignored). An ID containing
// "/policySetDefinitions/" names a set.
func CompileAssignment(a *Assignment, r Resolvers, opts CompileOptions) (*Assigned, error) {
	params := a.Parameters
	if params == nil {
		params = map[string]any{}
	}
	opts.Parameters = params
	if strings.Contains(strings.ToLower(a.PolicyDefinitionID), "/policysetdefinitions/") {
		if r.Set == nil {
			return nil, fmt.Errorf("assignment %s assigns a set, but no set resolver was given", a.Name)
		}
		s, err := r.Set(a.PolicyDefinitionID)
		if err != nil {
			return nil, err
		}
		cs, err := CompileSet(s, r.Definition, opts)
		if err != nil {
			return nil, err
		}
		return &Assigned{Assignment: a, Set: cs}, nil
	}
	d, err := r.Definition(a.PolicyDefinitionID)
	if err != nil {
		return nil, err
	}
	p, err := Compile(d, opts)
	if err != nil {
		return nil, err
	}
	return &Assigned{Assignment: a, Policy: p}, nil
}

// AssignmentResult is the evaluation of one assignment for one resource.
type AssignmentResult struct {
	AssignmentID string `json:"policyAssignmentId"`
	// Applicable is false when the resource is outside the scope, under a
	// notScope, not selected, or no member's mode applies.
	Applicable bool `json:"applicable"`
	// Enforced is false for enforcementMode DoNotEnforce: the effects are
	// reported but must not block or change requests.
	Enforced bool            `json:"enforced"`
	State    ComplianceState `json:"complianceState"`
	Members  []MemberResult  `json:"policyEvaluations,omitempty"`
}

// Evaluate evaluates the assignment for a resource: scope and notScopes,
// resource selectors, effect overrides, exemptions (which turn a member's
// state into Exempt, keeping its effect for the record), and the roll-up
// of the members' states. now decides exemption expiry.
func (x *Assigned) Evaluate(ctx context.Context, res *Resource, exemptions []*Exemption, now time.Time, opts EvalOptions) AssignmentResult {
	a := x.Assignment
	out := AssignmentResult{AssignmentID: a.ID, Enforced: a.Enforced(), State: StateNotApplicable}
	if (res.id != "" && a.Scope != "" && !a.InScope(res.id)) || !a.Selects(res) {
		return out
	}
	opts.Parameters = nil
	x.prepare()
	var buf [8]ComplianceState
	states := buf[:0]
	for i, m := range x.members {
		if !m.Policy.AppliesTo(res) {
			continue
		}
		o := opts
		o.Policy = x.policies[i]
		o.EffectOverride, _ = a.EffectOverride(m.ReferenceID, res)
		r := m.Policy.Evaluate(ctx, res, o)
		markNotApplicable(ctx, m.Policy, res, o, &r)
		for _, e := range exemptions {
			if e.Covers(a.ID, m.ReferenceID, res.id, res, now) {
				r.State = StateExempt
				break
			}
		}
		out.Members = append(out.Members, MemberResult{ReferenceID: m.ReferenceID, DefinitionID: m.DefinitionID,
			GroupNames: m.GroupNames, Result: r})
		states = append(states, r.State)
	}
	out.State = memberRollup(states)
	out.Applicable = out.State != StateNotApplicable
	return out
}
