package scan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/steward-gov/steward/internal/policy"
)

// DiffEntry is a resource whose compliance differs between two versions
// of an initiative: its rolled-up state under each, and the members
// whose state changed (added and removed members included).
type DiffEntry struct {
	ResourceID   string                 `json:"resourceId"`
	ResourceType string                 `json:"resourceType"`
	Where        string                 `json:"source"`
	Old          policy.ComplianceState `json:"oldComplianceState"`
	New          policy.ComplianceState `json:"newComplianceState"`
	Members      []MemberDiff           `json:"policyDefinitions"`
}

// MemberDiff is one member's state under the old and the new version;
// NotApplicable when the member is absent or does not apply.
type MemberDiff struct {
	ReferenceID string                 `json:"policyDefinitionReferenceId"`
	Old         policy.ComplianceState `json:"oldComplianceState"`
	New         policy.ComplianceState `json:"newComplianceState"`
}

// NewDiffScanner returns a scanner that compares two assignments: plan
// must hold exactly two targets, the old version first. Its sink gets
// Diff calls instead of findings.
func NewDiffScanner(plan *Plan, index *Index) *Scanner {
	s := &Scanner{Plan: plan, Index: index}
	s.compare = func(res *policy.Resource, where string, out []targetOutcome) *DiffEntry {
		var sides [2]*targetOutcome
		for i := range out {
			sides[out[i].t.index] = &out[i]
		}
		d := &DiffEntry{ResourceID: res.ID(), ResourceType: res.Type(), Where: where,
			Old: stateOf(sides[0]), New: stateOf(sides[1])}
		old := memberStates(sides[0])
		seen := map[string]bool{}
		if sides[1] != nil {
			for _, m := range sides[1].members {
				k := strings.ToLower(m.m.Name())
				seen[k] = true
				if o := stateOr(old, k); o != m.state {
					d.Members = append(d.Members, MemberDiff{ReferenceID: m.m.Name(), Old: o, New: m.state})
				}
			}
		}
		if sides[0] != nil {
			for _, m := range sides[0].members {
				if !seen[strings.ToLower(m.m.Name())] {
					d.Members = append(d.Members, MemberDiff{ReferenceID: m.m.Name(), Old: m.state, New: policy.StateNotApplicable})
				}
			}
		}
		if d.Old == d.New && len(d.Members) == 0 {
			return nil
		}
		return d
	}
	return s
}

func stateOf(t *targetOutcome) policy.ComplianceState {
	if t == nil {
		return policy.StateNotApplicable
	}
	return t.state
}

func memberStates(t *targetOutcome) map[string]policy.ComplianceState {
	out := map[string]policy.ComplianceState{}
	if t != nil {
		for _, m := range t.members {
			out[strings.ToLower(m.m.Name())] = m.state
		}
	}
	return out
}

func stateOr(m map[string]policy.ComplianceState, k string) policy.ComplianceState {
	if s, ok := m[k]; ok {
		return s
	}
	return policy.StateNotApplicable
}

// LoadDiffPlan compiles two versions of an initiative (files oldPath and
// newPath) as two assignments with the same ID, scope and parameters, so
// that exemptions apply to both; members resolve from in.PolicyPaths and
// in.DefinitionPaths (and the set files' folders are not searched).
func LoadDiffPlan(oldPath, newPath string, in Policies) (*Plan, error) {
	c := NewCatalog()
	if err := c.Load(append(append([]string{}, in.PolicyPaths...), in.DefinitionPaths...), false); err != nil {
		return nil, err
	}
	exemptions, err := loadExemptions(in.ExemptionFiles)
	if err != nil {
		return nil, err
	}
	p := &Plan{}
	for i, path := range []string{oldPath, newPath} {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		set, err := policy.ParseSetDefinition(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if set.Name == "" {
			set.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		}
		if set.ID == "" || !strings.Contains(strings.ToLower(set.ID), "/policysetdefinitions/") {
			set.ID = "/providers/Microsoft.Authorization/policySetDefinitions/" + set.Name
		}
		values, missing := bindParameters(set.Parameters, in.Defaults.Parameters)
		if len(missing) > 0 {
			return nil, fmt.Errorf("%s: required parameter %s has no default value (give it with --parameters)", path, strings.Join(missing, ", "))
		}
		scope := in.Defaults.Scope
		if scope == "" {
			scope = "/"
		}
		// one ID for both, so exemptions apply to both; the names tell
		// the two apart in the summary
		a := &policy.Assignment{ID: assignmentID(scope, set.Name), Name: [2]string{"old/", "new/"}[i] + set.Name,
			DisplayName: set.DisplayName, Scope: scope,
			NotScopes: in.Defaults.NotScopes, PolicyDefinitionID: set.ID, Parameters: values,
			EnforcementMode: enforcementMode(in.Defaults.EnforcementMode)}
		r := policy.Resolvers{Definition: c.Definition, Set: func(string) (*policy.SetDefinition, error) { return set, nil }}
		x, err := policy.CompileAssignment(a, r, in.compileOptions())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		p.add(x, exemptions)
	}
	return p, nil
}
