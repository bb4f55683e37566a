package policy

import (
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/armexpr"
)

// Assignment is a parsed policy assignment.
type Assignment struct {
	ID, Name, DisplayName string
	// Scope is where the assignment applies (with everything below it).
	Scope string
	// NotScopes are excluded: resources under them are not evaluated.
	NotScopes []string
	// PolicyDefinitionID names a definition or a set definition.
	PolicyDefinitionID string
	DefinitionVersion  string
	// Parameters are the assigned values (the {"p": {"value": v}} form is
	// unwrapped).
	Parameters map[string]any
	// EnforcementMode is Default or DoNotEnforce.
	EnforcementMode       string
	NonComplianceMessages []NonComplianceMessage
	Overrides             []Override
	ResourceSelectors     []ResourceSelector

	src SourceSum
}

// NonComplianceMessage is shown when a resource is denied or
// non-compliant; a message with a reference ID applies to that member of
// a set only.
type NonComplianceMessage struct {
	Message     string `json:"message"`
	ReferenceID string `json:"policyDefinitionReferenceId,omitempty"`
}

// Override changes the effect (kind policyEffect) of the members its
// selectors pick; overrides apply in order.
type Override struct {
	Kind      string     `json:"kind"`
	Value     string     `json:"value"`
	Selectors []Selector `json:"selectors,omitempty"`
}

// maxOverrides is the documented limit of overrides per assignment.
const maxOverrides = 10

// ParseAssignment parses a policy assignment document: the whole resource
// ({"properties": {...}}) or its properties object.
func ParseAssignment(data []byte) (a *Assignment, err error) {
	defer recoverParse(&err)
	env, err := parseEnvelope(data, "an assignment")
	if err != nil {
		return nil, err
	}
	props, path := env.props, env.path
	a = &Assignment{ID: env.id, Name: env.name}
	a.DisplayName = stringAt(props, "displayName")
	a.Scope = stringAt(props, "scope")
	a.PolicyDefinitionID = stringAt(props, "policyDefinitionId")
	a.DefinitionVersion = stringAt(props, "definitionVersion")
	if a.PolicyDefinitionID == "" {
		return nil, perr(path+".policyDefinitionId", "policyDefinitionId is required")
	}
	if a.NotScopes, err = stringList(props, "notScopes", path); err != nil {
		return nil, err
	}
	a.EnforcementMode = "Default"
	if em := stringAt(props, "enforcementMode"); em != "" {
		switch strings.ToLower(em) {
		case "default":
		case "donotenforce":
			a.EnforcementMode = "DoNotEnforce"
		default:
			return nil, perr(path+".enforcementMode", "want Default or DoNotEnforce, got %q", em)
		}
	}
	if pv, ok := armexpr.Lookup(props, "parameters"); ok && pv != nil {
		pm, ok := pv.(map[string]any)
		if !ok {
			return nil, perr(path+".parameters", "must be an object")
		}
		a.Parameters = make(map[string]any, len(pm))
		for k, v := range pm {
			a.Parameters[k] = unwrapParameterValue(v)
		}
	}
	if nv, ok := armexpr.Lookup(props, "nonComplianceMessages"); ok && nv != nil {
		list, _ := nv.([]any)
		for _, e := range list {
			em, _ := e.(map[string]any)
			a.NonComplianceMessages = append(a.NonComplianceMessages, NonComplianceMessage{
				Message: stringAt(em, "message"), ReferenceID: stringAt(em, "policyDefinitionReferenceId")})
		}
	}
	if ov, ok := armexpr.Lookup(props, "overrides"); ok && ov != nil {
		if a.Overrides, err = parseOverrides(ov, path+".overrides"); err != nil {
			return nil, err
		}
	}
	if rv, ok := armexpr.Lookup(props, "resourceSelectors"); ok && rv != nil {
		if a.ResourceSelectors, err = parseResourceSelectors(rv, path+".resourceSelectors"); err != nil {
			return nil, err
		}
	}
	if a.Scope == "" && a.ID != "" {
		if i := strings.Index(strings.ToLower(a.ID), "/providers/microsoft.authorization/policyassignments/"); i >= 0 {
			a.Scope = a.ID[:i]
		}
	}
	a.src = sumOf(data)
	return a, nil
}

func parseOverrides(v any, path string) ([]Override, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, perr(path, "must be an array")
	}
	if len(list) > maxOverrides {
		return nil, perr(path, "has %d overrides, more than %d", len(list), maxOverrides)
	}
	var out []Override
	for i, e := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		m, ok := e.(map[string]any)
		if !ok {
			return nil, perr(p, "must be an object")
		}
		o := Override{Kind: stringAt(m, "kind"), Value: stringAt(m, "value")}
		if !strings.EqualFold(o.Kind, "policyEffect") && !strings.EqualFold(o.Kind, "definitionVersion") {
			return nil, perr(p+".kind", "unknown override kind %q", o.Kind)
		}
		if sv, ok := armexpr.Lookup(m, "selectors"); ok && sv != nil {
			sels, err := parseSelectors(sv, p+".selectors")
			if err != nil {
				return nil, err
			}
			o.Selectors = sels
		}
		out = append(out, o)
	}
	return out, nil
}

// Enforced reports whether effects are enforced on requests
// (enforcementMode Default); DoNotEnforce still evaluates compliance.
func (a *Assignment) Enforced() bool { return a.EnforcementMode != "DoNotEnforce" }

// InScope reports whether a resource ID is under the assignment's scope
// and under none of its notScopes. managementGroups lists the management
// group IDs above the resource's subscription, for assignments made at a
// management group.
func (a *Assignment) InScope(resourceID string, managementGroups ...string) bool {
	in := arm.IsScopeAncestor(a.Scope, resourceID)
	if !in {
		for _, mg := range managementGroups {
			if arm.EqualIDs(mg, a.Scope) {
				in = true
				break
			}
		}
	}
	if !in {
		return false
	}
	for _, ns := range a.NotScopes {
		if arm.IsScopeAncestor(ns, resourceID) {
			return false
		}
	}
	return true
}

// Selects reports whether the assignment's resource selectors select the
// resource.
func (a *Assignment) Selects(res *Resource) bool { return selectsResource(a.ResourceSelectors, res) }

// EffectOverride returns the effect an override sets for a member (by
// reference ID, empty for a single definition) and resource: the first
// policyEffect override whose selectors all hold.
func (a *Assignment) EffectOverride(referenceID string, res *Resource) (string, bool) {
	for _, o := range a.Overrides {
		if !strings.EqualFold(o.Kind, "policyEffect") {
			continue
		}
		all := true
		for _, s := range o.Selectors {
			if !s.matches(res, referenceID) {
				all = false
				break
			}
		}
		if all {
			if e, ok := CanonicalEffect(o.Value); ok {
				return e, true
			}
		}
	}
	return "", false
}

// Message returns the non-compliance message for a member (reference ID
// empty for a single definition): the member's own, else the general one.
func (a *Assignment) Message(referenceID string) string {
	general := ""
	for _, m := range a.NonComplianceMessages {
		switch {
		case m.ReferenceID == "":
			general = m.Message
		case strings.EqualFold(m.ReferenceID, referenceID):
			return m.Message
		}
	}
	return general
}
