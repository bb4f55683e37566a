package scan

// Report is a scan's summary: what Azure's compliance view would show
// for the assignments over the estate.
type Report struct {
	// Resources is the number of resources read; Malformed the records
	// that were not resources.
	Resources int64 `json:"resources"`
	Malformed int64 `json:"malformedRecords"`
	// InputError is the error that stopped reading the estate early.
	InputError string `json:"inputError,omitempty"`
	// NonCompliant, Errors and Denied count findings: non-compliant
	// (resource, definition) pairs, evaluation errors, and pairs whose
	// next write would be denied.
	NonCompliant int64 `json:"nonCompliantResults"`
	Errors       int64 `json:"errorResults"`
	Denied       int64 `json:"deniedResults"`
	// Overall counts each resource once, its state rolled up over every
	// assignment that applies to it.
	Overall     Counts              `json:"overall"`
	Assignments []AssignmentSummary `json:"assignments"`
	// Skipped are the definitions, initiatives and assignments left out.
	Skipped []Problem `json:"skipped,omitempty"`
	// Diff is true for a --diff run, which reports Changed and
	// Transitions instead of findings.
	Diff bool `json:"diff,omitempty"`
	// Changed and Transitions summarise a diff: resources whose state
	// changed, and how many per "Old -> New".
	Changed int64 `json:"changedResources,omitempty"`
	// Regressions counts the changed resources that become
	// NonCompliant.
	Regressions int64            `json:"regressions,omitempty"`
	Transitions map[string]int64 `json:"transitions,omitempty"`
}

// AssignmentSummary is one assignment's compliance: resources by their
// state rolled up over its definitions, and each definition's counts.
type AssignmentSummary struct {
	ID                 string `json:"policyAssignmentId"`
	Name               string `json:"policyAssignmentName"`
	DisplayName        string `json:"displayName,omitempty"`
	PolicyDefinitionID string `json:"policyDefinitionId"`
	EnforcementMode    string `json:"enforcementMode"`
	Scope              string `json:"scope"`
	Resources          Counts `json:"resources"`
	// NonCompliantPolicies is the number of definitions with at least one
	// non-compliant resource.
	NonCompliantPolicies int             `json:"nonCompliantPolicies"`
	Policies             []PolicySummary `json:"policyDefinitions"`
}

// PolicySummary is one definition's compliance within an assignment.
type PolicySummary struct {
	ReferenceID  string `json:"policyDefinitionReferenceId,omitempty"`
	DefinitionID string `json:"policyDefinitionId"`
	DisplayName  string `json:"displayName,omitempty"`
	Resources    Counts `json:"resources"`
	// Denied counts the non-compliant resources whose next write the
	// definition would deny.
	Denied int64 `json:"denied"`
}

func (r *Report) fill(p *Plan, c *counters) {
	r.Overall = c.overall.counts()
	r.Skipped = append(r.Skipped, p.Problems...)
	for _, t := range p.Targets {
		a := t.Assignment
		s := AssignmentSummary{ID: a.ID, Name: a.Name, DisplayName: a.DisplayName, PolicyDefinitionID: a.PolicyDefinitionID,
			EnforcementMode: a.EnforcementMode, Scope: a.Scope, Resources: c.targets[t.index].counts()}
		for _, m := range t.Members {
			ps := PolicySummary{ReferenceID: m.ReferenceID, DefinitionID: m.DefinitionID, DisplayName: m.DisplayName,
				Resources: c.members[m.index].counts(), Denied: c.denied[m.index]}
			if ps.Resources.NonCompliant > 0 {
				s.NonCompliantPolicies++
			}
			s.Policies = append(s.Policies, ps)
		}
		r.Assignments = append(r.Assignments, s)
	}
}
