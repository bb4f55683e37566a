package policy

import (
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/armexpr"
)

// Exemption exempts resources under its scope from an assignment (or some
// members of an assigned set) without excluding them from evaluation.
type Exemption struct {
	ID, Name, DisplayName string
	// Scope is where the exemption is; it covers everything below.
	Scope              string
	PolicyAssignmentID string
	// ReferenceIDs limit the exemption to these members of a set; empty
	// exempts all of them.
	ReferenceIDs []string
	// Category is Waiver or Mitigated.
	Category string
	// ExpiresOn, when set, is when the exemption stops being honoured.
	ExpiresOn         *time.Time
	ResourceSelectors []ResourceSelector

	src SourceSum
}

// ParseExemption parses a policy exemption document: the whole resource
// or its properties object.
func ParseExemption(data []byte) (e *Exemption, err error) {
	defer recoverParse(&err)
	env, err := parseEnvelope(data, "an exemption")
	if err != nil {
		return nil, err
	}
	props, path := env.props, env.path
	e = &Exemption{ID: env.id, Name: env.name}
	e.DisplayName = stringAt(props, "displayName")
	e.PolicyAssignmentID = stringAt(props, "policyAssignmentId")
	if e.PolicyAssignmentID == "" {
		return nil, perr(path+".policyAssignmentId", "policyAssignmentId is required")
	}
	switch c := stringAt(props, "exemptionCategory"); strings.ToLower(c) {
	case "waiver":
		e.Category = "Waiver"
	case "mitigated":
		e.Category = "Mitigated"
	default:
		return nil, perr(path+".exemptionCategory", "want Waiver or Mitigated, got %q", c)
	}
	if e.ReferenceIDs, err = stringList(props, "policyDefinitionReferenceIds", path); err != nil {
		return nil, err
	}
	if s := stringAt(props, "expiresOn"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, perr(path+".expiresOn", "not an ISO 8601 time: %q", s)
		}
		e.ExpiresOn = &t
	}
	if rv, ok := armexpr.Lookup(props, "resourceSelectors"); ok && rv != nil {
		if e.ResourceSelectors, err = parseResourceSelectors(rv, path+".resourceSelectors"); err != nil {
			return nil, err
		}
	}
	e.Scope = stringAt(props, "scope")
	if e.Scope == "" && e.ID != "" {
		if i := strings.Index(strings.ToLower(e.ID), "/providers/microsoft.authorization/policyexemptions/"); i >= 0 {
			e.Scope = e.ID[:i]
		}
	}
	e.src = sumOf(data)
	return e, nil
}

// Covers reports whether the exemption applies to a member (reference ID,
// empty for a single definition) of an assignment for a resource at a
// time: same assignment, resource under the exemption's scope, member
// listed (or none listed), not expired, and selected by its resource
// selectors.
func (e *Exemption) Covers(assignmentID, referenceID, resourceID string, res *Resource, now time.Time) bool {
	if !arm.EqualIDs(e.PolicyAssignmentID, assignmentID) {
		return false
	}
	if e.ExpiresOn != nil && !now.Before(*e.ExpiresOn) {
		return false
	}
	if e.Scope != "" && !arm.IsScopeAncestor(e.Scope, resourceID) {
		return false
	}
	if len(e.ReferenceIDs) > 0 {
		found := false
		for _, r := range e.ReferenceIDs {
			if strings.EqualFold(r, referenceID) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return res == nil || selectsResource(e.ResourceSelectors, res)
}
