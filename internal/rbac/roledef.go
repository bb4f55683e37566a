package rbac

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/rbac/abac"
)

// Role definition types as Azure reports them in properties.type.
const (
	BuiltInRole = "BuiltInRole"
	CustomRole  = "CustomRole"
)

// Permission is one entry of a role definition's permissions: what it
// allows and what it subtracts, for the control plane (actions) and the
// data plane (dataActions), and an optional condition that must hold for
// the permission to grant anything.
type Permission struct {
	Actions          []string `json:"actions"`
	NotActions       []string `json:"notActions"`
	DataActions      []string `json:"dataActions"`
	NotDataActions   []string `json:"notDataActions"`
	Condition        string   `json:"condition,omitempty"`
	ConditionVersion string   `json:"conditionVersion,omitempty"`

	actions, notActions, dataActions, notDataActions []abac.ActionPattern
	cond                                             abac.Expr
	condErr                                          error
}

// compile prepares the patterns and parses the condition. A condition that
// does not parse is kept as condErr: the permission then grants nothing.
func (p *Permission) compile() {
	c := func(list []string) []abac.ActionPattern {
		out := make([]abac.ActionPattern, len(list))
		for i, s := range list {
			out[i] = abac.CompileAction(s)
		}
		return out
	}
	p.actions, p.notActions = c(p.Actions), c(p.NotActions)
	p.dataActions, p.notDataActions = c(p.DataActions), c(p.NotDataActions)
	p.cond, p.condErr = nil, nil
	if p.Condition != "" {
		p.cond, p.condErr = abac.Parse(p.Condition)
	}
}

// allows reports whether the permission's allow list matches a lower-cased
// action and its exclusion list does not, returning the matching pattern.
// NotActions subtract only within this permission, never across roles.
func (p *Permission) allows(lowerAction string, data bool) (string, bool) {
	allow, deny := p.actions, p.notActions
	if data {
		allow, deny = p.dataActions, p.notDataActions
	}
	for _, a := range allow {
		if a.MatchLower(lowerAction) {
			for _, n := range deny {
				if n.MatchLower(lowerAction) {
					return "", false
				}
			}
			return a.String(), true
		}
	}
	return "", false
}

// RoleDefinition is an Azure role definition.
type RoleDefinition struct {
	// ID is the fully qualified ID, such as
	// /providers/Microsoft.Authorization/roleDefinitions/{guid}.
	ID string
	// Name is the role's GUID in canonical lower-case form.
	Name             string
	RoleName         string
	Description      string
	Type             string
	AssignableScopes []string
	Permissions      []Permission
}

// IsBuiltIn reports whether the role is one of Azure's built-in roles.
func (r *RoleDefinition) IsBuiltIn() bool { return strings.EqualFold(r.Type, BuiltInRole) }

// Allows reports whether the role, on its own, grants the action (ignoring
// conditions), and the pattern that grants it.
func (r *RoleDefinition) Allows(action string, data bool) (string, bool) {
	la := strings.ToLower(action)
	for i := range r.Permissions {
		if pat, ok := r.Permissions[i].allows(la, data); ok {
			return pat, true
		}
	}
	return "", false
}

// AssignableAt reports whether the role may be assigned at scope: scope must
// be at or below one of its assignable scopes ("/" covers everything).
// Management-group containment of subscriptions comes from h.
func (r *RoleDefinition) AssignableAt(scope string, h Hierarchy) bool {
	chain, err := scopeChain(scope, h)
	if err != nil {
		return false
	}
	for _, as := range r.AssignableScopes {
		k, err := canonicalScope(as)
		if err != nil {
			continue
		}
		for _, c := range chain {
			if c == k {
				return true
			}
		}
	}
	return false
}

// roleDefinitionJSON is the ARM resource shape of a role definition.
type roleDefinitionJSON struct {
	ID         string          `json:"id,omitempty"`
	Name       string          `json:"name,omitempty"`
	Type       string          `json:"type,omitempty"`
	Properties *roleProperties `json:"properties,omitempty"`
}

type roleProperties struct {
	RoleName         string       `json:"roleName"`
	Description      string       `json:"description,omitempty"`
	Type             string       `json:"type"`
	Permissions      []Permission `json:"permissions"`
	AssignableScopes []string     `json:"assignableScopes"`
}

// flatRoleJSON is the flattened shape of role dumps such as the corpus
// (name is the display name, type the role type, no properties wrapper).
type flatRoleJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	// RoleName and RoleType are set in the az CLI's flattened output
	// (az role definition list), where name is the GUID and type the
	// resource type; the role dumps put the role name in name instead.
	RoleName         string       `json:"roleName"`
	RoleType         string       `json:"roleType"`
	Description      string       `json:"description"`
	AssignableScopes []string     `json:"assignableScopes"`
	Permissions      []Permission `json:"permissions"`
}

// MarshalJSON writes the ARM resource shape.
func (r *RoleDefinition) MarshalJSON() ([]byte, error) {
	perms := r.Permissions
	if perms == nil {
		perms = []Permission{}
	}
	return json.Marshal(roleDefinitionJSON{
		ID: r.ID, Name: r.Name, Type: "Microsoft.Authorization/roleDefinitions",
		Properties: &roleProperties{RoleName: r.RoleName, Description: r.Description, Type: r.Type,
			Permissions: perms, AssignableScopes: r.AssignableScopes},
	})
}

// UnmarshalJSON reads the ARM resource shape (with properties), the az
// CLI's flattened shape (roleName, roleType) or the flattened dump shape
// (name is the role name). Property names match case-insensitively, as some
// built-in roles spell them "Actions" and "Condition".
func (r *RoleDefinition) UnmarshalJSON(b []byte) error {
	var probe roleDefinitionJSON
	if err := json.Unmarshal(b, &probe); err != nil {
		return err
	}
	if probe.Properties != nil {
		p := probe.Properties
		*r = RoleDefinition{ID: probe.ID, Name: probe.Name, RoleName: p.RoleName, Description: p.Description,
			Type: p.Type, AssignableScopes: p.AssignableScopes, Permissions: p.Permissions}
	} else {
		var f flatRoleJSON
		if err := json.Unmarshal(b, &f); err != nil {
			return err
		}
		*r = RoleDefinition{ID: f.ID, RoleName: f.Name, Description: f.Description, Type: f.Type,
			AssignableScopes: f.AssignableScopes, Permissions: f.Permissions}
		if f.RoleName != "" {
			r.Name, r.RoleName, r.Type = f.Name, f.RoleName, f.RoleType
		}
	}
	return r.normalize()
}

// normalize fills Name from ID (or ID from Name), canonicalises the GUID
// and compiles the permissions.
func (r *RoleDefinition) normalize() error {
	src := r.Name
	if src == "" {
		src = r.ID
	}
	g, ok := roleGUID(src)
	if !ok {
		return badRequest(CodeInvalidRoleDefinition, "role definition %q: id %q does not end in a GUID", r.RoleName, src)
	}
	r.Name = g
	if r.ID == "" {
		r.ID = "/providers/Microsoft.Authorization/roleDefinitions/" + g
	}
	if r.Type == "" {
		r.Type = CustomRole
	}
	for i := range r.Permissions {
		r.Permissions[i].compile()
	}
	return nil
}

// Validate checks the limits Azure puts on custom roles: a name, at least
// one permission, at most one wildcard per action string, assignable scopes
// that are valid scopes without wildcards, not "/", at most one management
// group, no management group when the role has data actions, and
// conditions that parse with conditionVersion 2.0.
func (r *RoleDefinition) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(r.RoleName) == "" {
		bad("roleName is required")
	}
	if len(r.Permissions) == 0 {
		bad("at least one permission is required")
	}
	hasData := false
	for i, p := range r.Permissions {
		if len(p.Actions) == 0 && len(p.DataActions) == 0 {
			bad("permissions[%d]: needs actions or dataActions", i)
		}
		hasData = hasData || len(p.DataActions) > 0
		for _, list := range [][]string{p.Actions, p.NotActions, p.DataActions, p.NotDataActions} {
			for _, a := range list {
				if strings.Count(a, "*") > 1 {
					bad("permissions[%d]: %q has more than one wildcard; custom roles allow one per action string", i, a)
				}
				if strings.TrimSpace(a) == "" {
					bad("permissions[%d]: empty action string", i)
				}
			}
		}
		if p.Condition != "" {
			if p.ConditionVersion != "2.0" {
				bad("permissions[%d]: conditionVersion must be \"2.0\", got %q", i, p.ConditionVersion)
			}
			if p.condErr != nil {
				bad("permissions[%d]: %v", i, p.condErr)
			}
		}
	}
	if len(r.AssignableScopes) == 0 {
		bad("at least one assignable scope is required")
	}
	mgs := 0
	for _, s := range r.AssignableScopes {
		switch {
		case strings.Contains(s, "*"):
			bad("assignable scope %q: wildcards are not allowed", s)
		case strings.Trim(s, "/") == "":
			bad("assignable scope \"/\" is reserved for built-in roles")
		default:
			id, err := arm.ParseResourceID(s)
			if err != nil {
				bad("assignable scope: %v", err)
				continue
			}
			if id.Kind() == arm.ScopeManagementGroup {
				mgs++
				if hasData {
					bad("assignable scope %q: roles with dataActions cannot be assigned at management-group scope", s)
				}
			}
		}
	}
	if mgs > 1 {
		bad("only one management group may be an assignable scope, got %d", mgs)
	}
	if len(errs) > 0 {
		return badRequest(CodeInvalidRoleDefinition, "custom role %q: %v", r.RoleName, errors.Join(errs...))
	}
	return nil
}
