package scan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/policy"
)

// Plan is a set of compiled assignments flattened for scanning: each
// assignment with its members, the policy() value each member sees and
// the exemptions that name the assignment, all computed once.
type Plan struct {
	Targets []*Target
	// Members counts the members of all targets; member indexes run
	// over all targets.
	Members int
	// Problems are the assignments that could not be compiled.
	Problems []Problem
}

// Target is one compiled assignment.
type Target struct {
	Assignment *policy.Assignment
	// SetID is the assigned initiative's ID, or "".
	SetID      string
	Members    []*Member
	exemptions []*policy.Exemption
	mgScope    bool
	index      int
}

// Member is one definition of a target (the definition itself when a
// single definition is assigned).
type Member struct {
	ReferenceID  string
	DefinitionID string
	DisplayName  string
	Policy       *policy.Policy
	policyFn     map[string]any
	index        int
}

// Compile compiles assignments against a catalog. Assignments that fail
// (a missing definition, a bad parameter value) are reported in
// Plan.Problems and left out.
func Compile(c *Catalog, assignments []*policy.Assignment, exemptions []*policy.Exemption, opts policy.CompileOptions) *Plan {
	p := &Plan{}
	for _, a := range assignments {
		x, err := policy.CompileAssignment(a, c.Resolvers(), opts)
		if err != nil {
			pr := Problem{Source: a.PolicyDefinitionID, Reason: "skipped: " + err.Error()}
			var ce *policy.CompileError
			if errors.As(err, &ce) {
				pr.Code = ce.Code
			}
			p.Problems = append(p.Problems, pr)
			continue
		}
		p.add(x, exemptions)
	}
	return p
}

// add appends a compiled assignment as a target.
func (p *Plan) add(x *policy.Assigned, exemptions []*policy.Exemption) {
	a := x.Assignment
	t := &Target{Assignment: a, mgScope: isManagementGroup(a.Scope), index: len(p.Targets)}
	if x.Set != nil {
		t.SetID = x.Set.Set.ID
		for _, m := range x.Set.Members {
			t.Members = append(t.Members, p.member(t, m.ReferenceID, m.DefinitionID, m.Policy))
		}
	} else {
		t.Members = append(t.Members, p.member(t, "", a.PolicyDefinitionID, x.Policy))
	}
	for _, e := range exemptions {
		if arm.EqualIDs(e.PolicyAssignmentID, a.ID) {
			t.exemptions = append(t.exemptions, e)
		}
	}
	p.Targets = append(p.Targets, t)
}

func (p *Plan) member(t *Target, ref, defID string, pol *policy.Policy) *Member {
	m := &Member{ReferenceID: ref, DefinitionID: defID, DisplayName: pol.Definition().DisplayName, Policy: pol,
		index: p.Members, policyFn: map[string]any{"assignmentId": t.Assignment.ID, "definitionId": defID,
			"setDefinitionId": t.SetID, "definitionReferenceId": ref}}
	p.Members++
	return m
}

// Name is the member's label in reports: its reference ID in an
// initiative, else the definition's name.
func (m *Member) Name() string {
	if m.ReferenceID != "" {
		return m.ReferenceID
	}
	return m.DefinitionID[strings.LastIndexByte(m.DefinitionID, '/')+1:]
}

// covers reports whether the target's scope, notScopes and resource
// selectors take in a resource.
func (t *Target) covers(res *policy.Resource) bool {
	a := t.Assignment
	var in bool
	if t.mgScope {
		in = a.InScope(res.ID(), a.Scope)
	} else {
		in = a.InScope(res.ID())
	}
	return in && a.Selects(res)
}

// exempt reports whether an exemption covers a member for a resource.
func (t *Target) exempt(m *Member, res *policy.Resource, now timeFn) bool {
	for _, e := range t.exemptions {
		if e.Covers(t.Assignment.ID, m.ReferenceID, res.ID(), res, now()) {
			return true
		}
	}
	return false
}

// relatedTypes lists the resource types the plan's auditIfNotExists and
// deployIfNotExists details ask about; all is true when one names its
// type with an expression, so every resource must be indexed.
func (p *Plan) relatedTypes() (types map[string]bool, all bool) {
	types = map[string]bool{}
	for _, t := range p.Targets {
		for _, m := range t.Members {
			r := m.Policy.Definition().Rule
			if r == nil || r.Then == nil {
				continue
			}
			dm, ok := r.Then.Details.(map[string]any)
			if !ok {
				continue
			}
			v, ok := lookup(dm, "type")
			if !ok {
				continue
			}
			s, _ := v.(string)
			if strings.HasPrefix(s, "[") && !strings.HasPrefix(s, "[[") {
				all = true
				continue
			}
			if s != "" {
				types[strings.ToLower(s)] = true
			}
		}
	}
	return types, all
}

// needsIndex reports whether evaluating the plan can read the index: it
// names related types (auditIfNotExists, deployIfNotExists), or some
// rule, parameter definition or assigned parameter value may call
// resourceGroup() or subscription() (the only readers of the
// containers). The test is conservative: any mention of either word
// counts (a type condition on resource groups too), as does anything that
// cannot be marshalled.
func (p *Plan) needsIndex() bool {
	if types, all := p.relatedTypes(); all || len(types) > 0 {
		return true
	}
	mentions := func(v any) bool {
		data, err := json.Marshal(v)
		if err != nil {
			return true
		}
		low := bytes.ToLower(data)
		return bytes.Contains(low, []byte("resourcegroup")) || bytes.Contains(low, []byte("subscription"))
	}
	for _, t := range p.Targets {
		if mentions(t.Assignment.Parameters) {
			return true
		}
		for _, m := range t.Members {
			d := m.Policy.Definition()
			if mentions(d.Rule) || mentions(d.Parameters) {
				return true
			}
		}
	}
	return false
}
