package authorization

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/rbac"
)

const roleDefinitionsPath = "/providers/Microsoft.Authorization/roleDefinitions/"

// serveRoleDefinitions answers the role definitions of a scope: GET (list
// and one), PUT and DELETE of custom roles.
func (p *Provider) serveRoleDefinitions(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t := call.Target
	if t.Collection {
		if call.Method != http.MethodGet {
			return nil, methodNotAllowed(call.Method)
		}
		return p.listRoleDefinitions(ctx, call)
	}
	switch call.Method {
	case http.MethodGet, http.MethodHead:
		// Role definitions are readable by every authenticated caller, as
		// `az role definition list` is (docs/decisions/authorization.md).
		call.SkipAuthorization()
		rd, ok := p.roleCatalog().Get(t.Name)
		if !ok || canonicalGUID(t.Name) == "" {
			return nil, roleDefinitionNotFound(t.Name)
		}
		return &cloud.Response{Status: http.StatusOK, Body: p.renderRole(rd, scopeOf(t.Scope))}, nil
	case http.MethodPut:
		return p.putRoleDefinition(ctx, call)
	case http.MethodDelete:
		return p.deleteRoleDefinition(ctx, call)
	}
	return nil, methodNotAllowed(call.Method)
}

func roleDefinitionNotFound(name string) *arm.Error {
	return arm.NotFound(rbac.CodeRoleDefinitionDoesNotExist, "The role definition '%s' could not be found.", name)
}

// listRoleDefinitions lists the built-in roles and the custom roles usable
// at the scope (assignable there or above; with atScopeAndBelow() also
// those assignable below), filtered by roleName or type.
func (p *Provider) listRoleDefinitions(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	call.SkipAuthorization()
	scope := scopeOf(call.Target.Scope)
	f, err := cloud.ParseFuncFilter(call.Query.Get("$filter"), []string{"atscopeandbelow"}, []string{"rolename", "type"})
	if err != nil {
		return nil, err
	}
	anc := p.ancestry(scope)
	var items []any
	for _, rd := range p.roleCatalog().List() {
		if v, ok := f.Eq["rolename"]; ok && !strings.EqualFold(rd.RoleName, v) {
			continue
		}
		typ := rbac.CustomRole
		if rd.IsBuiltIn() {
			typ = rbac.BuiltInRole
		}
		if v, ok := f.Eq["type"]; ok && !strings.EqualFold(typ, v) {
			continue
		}
		if !rd.IsBuiltIn() && scope != "/" && !p.customVisible(rd, scope, anc, f.Has("atscopeandbelow")) {
			continue
		}
		items = append(items, p.renderRole(rd, scope))
	}
	return pageOf(call, items)
}

// customVisible reports whether a custom role shows in a list at scope.
func (p *Provider) customVisible(rd *rbac.RoleDefinition, scope string, anc map[string]bool, below bool) bool {
	for _, s := range rd.AssignableScopes {
		if p.atOrAbove(anc, s) || (below && arm.IsScopeAncestor(scope, s)) {
			return true
		}
	}
	return false
}

// renderRole is the ARM shape of a role as seen from scope: its ID carries
// the subscription when scope is inside one, as ARM shows it.
func (p *Provider) renderRole(rd *rbac.RoleDefinition, scope string) map[string]any {
	b, _ := json.Marshal(rd)
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	if doc == nil {
		doc = map[string]any{}
	}
	doc["id"] = subscriptionRoleID(scope, rd.Name)
	doc["name"] = rd.Name
	doc["type"] = cloud.TypeRoleDefinition
	if props, ok := doc["properties"].(map[string]any); ok {
		if rd.IsBuiltIn() {
			props["type"] = rbac.BuiltInRole
		} else {
			props["type"] = rbac.CustomRole
		}
	}
	return doc
}

// putRoleDefinition creates or updates a custom role. The caller needs
// roleDefinitions/write at every assignable scope; the role is validated
// as Azure validates custom roles, and its name must be unique among the
// tenant's custom roles.
func (p *Provider) putRoleDefinition(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t := call.Target
	guid := canonicalGUID(t.Name)
	if guid == "" {
		call.SkipAuthorization()
		return nil, arm.BadRequest("InvalidRoleDefinitionId", "The role definition ID '%s' is not valid. The role definition ID must be a GUID.", t.Name)
	}
	body, err := call.Document()
	if err != nil {
		call.SkipAuthorization()
		return nil, err
	}
	// The body names the role by the URL: its own id and name, if any,
	// are ignored as ARM ignores them.
	body["id"], body["name"] = t.ID, guid
	b, _ := json.Marshal(body)
	var rd rbac.RoleDefinition
	if err := json.Unmarshal(b, &rd); err != nil {
		call.SkipAuthorization()
		if ae, ok := err.(*arm.Error); ok {
			return nil, ae
		}
		return nil, arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized.")
	}
	if len(rd.AssignableScopes) == 0 {
		rd.AssignableScopes = []string{scopeOf(t.Scope)}
	}
	for _, s := range rd.AssignableScopes {
		if err := call.Authorize(ctx, cloud.TypeRoleDefinition+"/write", s); err != nil {
			return nil, err
		}
	}
	if old, ok := p.roleCatalog().Get(guid); ok && old.IsBuiltIn() {
		return nil, arm.Errorf(http.StatusForbidden, "RoleDefinitionIsBuiltIn", "The role definition '%s' is a built-in role and cannot be changed.", guid)
	}
	if strings.EqualFold(rd.Type, rbac.BuiltInRole) {
		return nil, arm.BadRequest(rbac.CodeInvalidRoleDefinition, "A custom role cannot have the type BuiltInRole.")
	}
	rd.Name, rd.Type = guid, rbac.CustomRole
	rd.ID = t.ID
	if old, ok := p.roleCatalog().Get(guid); ok && old.ID != "" && !arm.EqualIDs(old.ID, t.ID) {
		rd.ID = old.ID // a role lives where it was first written
	}
	if err := rd.Validate(); err != nil {
		return nil, arm.BadRequest(rbac.CodeInvalidRoleDefinition, "%s", strings.TrimPrefix(err.Error(), "rbac: "))
	}
	for _, s := range rd.AssignableScopes {
		if err := p.requireScope(ctx, s); err != nil {
			return nil, err
		}
	}
	for _, other := range p.roleCatalog().List() {
		if other.Name != guid && strings.EqualFold(other.RoleName, rd.RoleName) {
			return nil, arm.Errorf(http.StatusConflict, "RoleDefinitionWithSameNameExists",
				"A custom role with the same name already exists in this directory. Use a different name.")
		}
	}
	doc := p.renderRole(&rd, "/")
	doc["id"] = rd.ID
	now := p.c.Now().UTC().Format("2006-01-02T15:04:05.0000000Z")
	props, _ := doc["properties"].(map[string]any)
	if props != nil {
		props["createdOn"], props["updatedOn"] = now, now
		props["createdBy"], props["updatedBy"] = call.Principal.ObjectID, call.Principal.ObjectID
	}
	r, _, err := p.c.Put(ctx, call, cloud.PutRequest{ID: rd.ID, Type: cloud.TypeRoleDefinition, Cond: call.Precondition(),
		Build: func(existing *cloud.Resource) (map[string]any, error) {
			if existing != nil && props != nil {
				if v := stringAt(existing.Doc, "properties", "createdOn"); v != "" {
					props["createdOn"] = v
				}
				if v := stringAt(existing.Doc, "properties", "createdBy"); v != "" {
					props["createdBy"] = v
				}
			}
			return doc, nil
		}})
	if err != nil {
		return nil, err
	}
	// The spec answers a role definition's PUT with 201, created or updated.
	return &cloud.Response{Status: http.StatusCreated, Body: r.Doc}, nil
}

// deleteRoleDefinition removes a custom role that no assignment uses.
func (p *Provider) deleteRoleDefinition(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t := call.Target
	if err := call.Authorize(ctx, cloud.TypeRoleDefinition+"/delete", scopeOf(t.Scope)); err != nil {
		return nil, err
	}
	guid := canonicalGUID(t.Name)
	rd, ok := p.roleCatalog().Get(t.Name)
	if guid == "" || !ok {
		return &cloud.Response{Status: http.StatusNoContent}, nil
	}
	if rd.IsBuiltIn() {
		return nil, arm.Errorf(http.StatusForbidden, "RoleDefinitionIsBuiltIn", "The role definition '%s' is a built-in role and cannot be deleted.", guid)
	}
	for _, ra := range p.c.Engine().RoleAssignments() {
		if roleGUID(ra.RoleDefinitionID) == guid {
			return nil, arm.Errorf(http.StatusConflict, "RoleDefinitionHasAssignments",
				"There are existing role assignments referencing role (code: RoleDefinitionHasAssignments).")
		}
	}
	id := rd.ID
	if id == "" {
		id = t.ID
	}
	deleted, found, err := p.c.Delete(ctx, call, cloud.DeleteRequest{ID: id, Cond: call.Precondition()})
	if err != nil {
		return nil, err
	}
	if !found {
		return &cloud.Response{Status: http.StatusNoContent}, nil
	}
	return &cloud.Response{Status: http.StatusOK, Body: deleted.Doc}, nil
}
