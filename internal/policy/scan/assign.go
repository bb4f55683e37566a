package scan

import (
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/policy"
)

// Defaults are the assignment settings used when no assignment file is
// given (each definition and initiative is then assigned on its own), and
// the settings that override an assignment file's when set.
type Defaults struct {
	// Scope is where the assignments apply; "/" (everything) when empty.
	Scope string
	// NotScopes are excluded from evaluation.
	NotScopes []string
	// Parameters are values for the assigned definitions; each assignment
	// takes the ones its definition or initiative declares.
	Parameters map[string]any
	// EnforcementMode is Default or DoNotEnforce; Default when empty.
	EnforcementMode string
}

// DefaultAssignments assigns every definition and initiative of the
// catalog at d.Scope. Definitions whose required parameters have no
// default and no value in d.Parameters are skipped and reported.
func DefaultAssignments(c *Catalog, d Defaults) ([]*policy.Assignment, []Problem) {
	scope := d.Scope
	if scope == "" {
		scope = "/"
	}
	var out []*policy.Assignment
	var problems []Problem
	add := func(id, name, display string, params []*policy.ParameterDef) {
		values, missing := bindParameters(params, d.Parameters)
		if len(missing) > 0 {
			problems = append(problems, Problem{Source: id, Reason: fmt.Sprintf(
				"skipped: required parameter %s has no default value (give it with --parameters)", strings.Join(missing, ", "))})
			return
		}
		out = append(out, &policy.Assignment{ID: assignmentID(scope, name), Name: name, DisplayName: display,
			Scope: scope, NotScopes: d.NotScopes, PolicyDefinitionID: id, Parameters: values,
			EnforcementMode: enforcementMode(d.EnforcementMode)})
	}
	for _, def := range c.Definitions {
		add(def.ID, def.Name, def.DisplayName, def.Parameters)
	}
	for _, s := range c.Sets {
		add(s.ID, s.Name, s.DisplayName, s.Parameters)
	}
	return out, problems
}

// Override applies the settings given on the command line to an
// assignment read from a file: scope, notScopes, enforcement mode, and
// parameter values its definition declares (which replace the file's).
func (d Defaults) Override(a *policy.Assignment) {
	if d.Scope != "" {
		a.Scope = d.Scope
	}
	if d.NotScopes != nil {
		a.NotScopes = d.NotScopes
	}
	if d.EnforcementMode != "" {
		a.EnforcementMode = enforcementMode(d.EnforcementMode)
	}
	if len(d.Parameters) > 0 {
		if a.Parameters == nil {
			a.Parameters = map[string]any{}
		}
		for k, v := range d.Parameters {
			a.Parameters[k] = v
		}
	}
	if a.ID == "" {
		name := a.Name
		if name == "" {
			name = a.PolicyDefinitionID[strings.LastIndexByte(a.PolicyDefinitionID, '/')+1:]
		}
		a.ID = assignmentID(a.Scope, name)
	}
	if a.Scope == "" {
		a.Scope = "/"
	}
}

// ParseEnforcementMode checks an --enforcement-mode value.
func ParseEnforcementMode(s string) (string, error) {
	switch strings.ToLower(s) {
	case "":
		return "", nil
	case "default":
		return "Default", nil
	case "donotenforce":
		return "DoNotEnforce", nil
	}
	return "", fmt.Errorf("unknown enforcement mode %q (want Default or DoNotEnforce)", s)
}

func enforcementMode(s string) string {
	if m, _ := ParseEnforcementMode(s); m != "" {
		return m
	}
	return "Default"
}

// assignmentID is the ID a default assignment gets: the scope's
// policyAssignments child named after the definition.
func assignmentID(scope, name string) string {
	return strings.TrimSuffix(scope, "/") + "/providers/Microsoft.Authorization/policyAssignments/" + name
}

// bindParameters picks the given values a definition declares and lists
// the required parameters (no default) left without a value.
func bindParameters(decl []*policy.ParameterDef, given map[string]any) (map[string]any, []string) {
	values := map[string]any{}
	var missing []string
	for _, p := range decl {
		v, ok := lookup(given, p.Name)
		switch {
		case ok:
			values[p.Name] = v
		case !p.HasDefault:
			missing = append(missing, p.Name)
		}
	}
	return values, missing
}

// isManagementGroup reports whether a scope is a management group, whose
// subscriptions the estate cannot tell: the scan treats every resource
// as under it.
func isManagementGroup(scope string) bool {
	id, err := arm.ParseResourceID(scope)
	return err == nil && id.ManagementGroup != "" && id.SubscriptionID == ""
}
