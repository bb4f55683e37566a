package rbac

import (
	"encoding/json"
	"strings"
)

// Principal types of role assignments, as Azure spells them.
const (
	PrincipalUser             = "User"
	PrincipalGroup            = "Group"
	PrincipalServicePrincipal = "ServicePrincipal"
	PrincipalForeignGroup     = "ForeignGroup"
)

// RoleAssignment grants a role to a principal at a scope, optionally under a
// condition.
type RoleAssignment struct {
	// ID is {scope}/providers/Microsoft.Authorization/roleAssignments/{name}.
	ID               string
	Name             string
	Scope            string
	RoleDefinitionID string
	PrincipalID      string
	// PrincipalType is User, Group, ServicePrincipal or ForeignGroup.
	// Access checks match by principal ID (the caller supplies the groups a
	// user belongs to), so the type is descriptive there.
	PrincipalType    string
	Description      string
	Condition        string
	ConditionVersion string
}

type roleAssignmentProps struct {
	RoleDefinitionID string `json:"roleDefinitionId"`
	PrincipalID      string `json:"principalId"`
	PrincipalType    string `json:"principalType,omitempty"`
	Scope            string `json:"scope,omitempty"`
	Description      string `json:"description,omitempty"`
	Condition        string `json:"condition,omitempty"`
	ConditionVersion string `json:"conditionVersion,omitempty"`
}

type roleAssignmentJSON struct {
	ID         string               `json:"id,omitempty"`
	Name       string               `json:"name,omitempty"`
	Type       string               `json:"type,omitempty"`
	Properties *roleAssignmentProps `json:"properties,omitempty"`
}

// MarshalJSON writes the ARM resource shape.
func (a *RoleAssignment) MarshalJSON() ([]byte, error) {
	return json.Marshal(roleAssignmentJSON{ID: a.ID, Name: a.Name, Type: "Microsoft.Authorization/roleAssignments",
		Properties: &roleAssignmentProps{RoleDefinitionID: a.RoleDefinitionID, PrincipalID: a.PrincipalID,
			PrincipalType: a.PrincipalType, Scope: a.Scope, Description: a.Description,
			Condition: a.Condition, ConditionVersion: a.ConditionVersion}})
}

// UnmarshalJSON reads the ARM resource shape. When properties.scope is
// absent the scope is taken from the ID.
func (a *RoleAssignment) UnmarshalJSON(b []byte) error {
	var j roleAssignmentJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	p := j.Properties
	if p == nil {
		p = &roleAssignmentProps{}
	}
	*a = RoleAssignment{ID: j.ID, Name: j.Name, Scope: p.Scope, RoleDefinitionID: p.RoleDefinitionID,
		PrincipalID: p.PrincipalID, PrincipalType: p.PrincipalType, Description: p.Description,
		Condition: p.Condition, ConditionVersion: p.ConditionVersion}
	if a.Scope == "" {
		a.Scope = scopeOfExtension(a.ID, "roleAssignments")
	}
	return nil
}

// scopeOfExtension returns the scope part of an extension resource ID such
// as {scope}/providers/Microsoft.Authorization/roleAssignments/{name}.
func scopeOfExtension(id, typ string) string {
	marker := "/providers/microsoft.authorization/" + strings.ToLower(typ) + "/"
	i := strings.LastIndex(strings.ToLower(id), marker)
	if i < 0 {
		return ""
	}
	if i == 0 {
		return "/"
	}
	return id[:i]
}

// PrincipalRef names a principal in a deny assignment.
type PrincipalRef struct {
	ID   string `json:"id"`
	Type string `json:"type,omitempty"`
}

// DenyAssignment blocks actions for principals at a scope and, unless
// DoNotApplyToChildScopes, below it. A principal ID of all zeros (type
// SystemDefined) means every principal.
type DenyAssignment struct {
	ID                      string
	Name                    string
	Scope                   string
	Description             string
	Permissions             []Permission
	Principals              []PrincipalRef
	ExcludePrincipals       []PrincipalRef
	DoNotApplyToChildScopes bool
	IsSystemProtected       bool
}

type denyAssignmentProps struct {
	DenyAssignmentName      string         `json:"denyAssignmentName"`
	Description             string         `json:"description,omitempty"`
	Permissions             []Permission   `json:"permissions"`
	Scope                   string         `json:"scope,omitempty"`
	DoNotApplyToChildScopes bool           `json:"doNotApplyToChildScopes"`
	Principals              []PrincipalRef `json:"principals"`
	ExcludePrincipals       []PrincipalRef `json:"excludePrincipals,omitempty"`
	IsSystemProtected       bool           `json:"isSystemProtected"`
}

type denyAssignmentJSON struct {
	ID         string               `json:"id,omitempty"`
	Name       string               `json:"name,omitempty"`
	Type       string               `json:"type,omitempty"`
	Properties *denyAssignmentProps `json:"properties,omitempty"`
}

// MarshalJSON writes the ARM resource shape.
func (d *DenyAssignment) MarshalJSON() ([]byte, error) {
	return json.Marshal(denyAssignmentJSON{ID: d.ID, Name: d.Name, Type: "Microsoft.Authorization/denyAssignments",
		Properties: &denyAssignmentProps{DenyAssignmentName: d.Name, Description: d.Description, Permissions: d.Permissions,
			Scope: d.Scope, DoNotApplyToChildScopes: d.DoNotApplyToChildScopes, Principals: d.Principals,
			ExcludePrincipals: d.ExcludePrincipals, IsSystemProtected: d.IsSystemProtected}})
}

// UnmarshalJSON reads the ARM resource shape.
func (d *DenyAssignment) UnmarshalJSON(b []byte) error {
	var j denyAssignmentJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	p := j.Properties
	if p == nil {
		p = &denyAssignmentProps{}
	}
	name := p.DenyAssignmentName
	if name == "" {
		name = j.Name
	}
	*d = DenyAssignment{ID: j.ID, Name: name, Scope: p.Scope, Description: p.Description, Permissions: p.Permissions,
		Principals: p.Principals, ExcludePrincipals: p.ExcludePrincipals,
		DoNotApplyToChildScopes: p.DoNotApplyToChildScopes, IsSystemProtected: p.IsSystemProtected}
	if d.Scope == "" {
		d.Scope = scopeOfExtension(d.ID, "denyAssignments")
	}
	return nil
}
