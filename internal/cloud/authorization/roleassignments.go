package authorization

import (
	"context"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/rbac/abac"
)

// Attribute names a role-assignment condition sees.
const (
	attrRoleDefinitionID = "Microsoft.Authorization/roleAssignments:RoleDefinitionId"
	attrPrincipalID      = "Microsoft.Authorization/roleAssignments:PrincipalId"
	attrPrincipalType    = "Microsoft.Authorization/roleAssignments:PrincipalType"
)

// serveRoleAssignments answers role assignments: list at a scope, GET, PUT
// and DELETE by scope and name (which is also the GET/PUT/DELETE by ID).
func (p *Provider) serveRoleAssignments(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t := call.Target
	if t.Collection {
		if call.Method != http.MethodGet {
			return nil, methodNotAllowed(call.Method)
		}
		return p.listRoleAssignments(ctx, call)
	}
	switch call.Method {
	case http.MethodGet, http.MethodHead:
		if err := call.Authorize(ctx, cloud.TypeRoleAssignment+"/read", t.ID); err != nil {
			return nil, err
		}
		r, err := p.get(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, arm.NotFound(rbac.CodeRoleAssignmentNotFound, "The role assignment '%s' is not found.", t.Name)
		}
		return &cloud.Response{Status: http.StatusOK, Body: r.Doc}, nil
	case http.MethodPut:
		return p.putRoleAssignment(ctx, call)
	case http.MethodDelete:
		return p.deleteRoleAssignment(ctx, call)
	}
	return nil, methodNotAllowed(call.Method)
}

// listRoleAssignments lists the assignments at, above and below a scope;
// atScope() keeps those at and above; principalId eq and assignedTo() keep
// one principal's.
func (p *Provider) listRoleAssignments(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	scope := scopeOf(call.Target.Scope)
	if err := call.Authorize(ctx, cloud.TypeRoleAssignment+"/read", scope); err != nil {
		return nil, err
	}
	f, err := cloud.ParseFuncFilter(call.Query.Get("$filter"), []string{"atscope", "assignedto"}, []string{"principalid"})
	if err != nil {
		return nil, err
	}
	anc := p.ancestry(scope)
	principals := map[string]bool{}
	if v, ok := f.Eq["principalid"]; ok {
		principals[strings.ToLower(v)] = true
	}
	if v, ok := f.Funcs["assignedto"]; ok {
		if v == "" {
			return nil, arm.BadRequest("InvalidFilterInQueryString", "assignedTo() needs the object ID of a principal.")
		}
		principals[strings.ToLower(v)] = true
	}
	return p.listStored(ctx, call, cloud.TypeRoleAssignment, func(r cloud.Resource) bool {
		raScope := stringAt(r.Doc, "properties", "scope")
		if raScope == "" {
			raScope = scopeFromID(r.ID)
		}
		if len(principals) > 0 && !principals[strings.ToLower(stringAt(r.Doc, "properties", "principalId"))] {
			return false
		}
		if p.atOrAbove(anc, raScope) {
			return true
		}
		return !f.Has("atscope") && arm.IsScopeAncestor(scope, raScope)
	})
}

// scopeFromID is the scope of an extension resource ID
// ({scope}/providers/Microsoft.Authorization/{type}/{name}).
func scopeFromID(id string) string {
	i := strings.LastIndex(strings.ToLower(id), "/providers/microsoft.authorization/")
	if i <= 0 {
		return "/"
	}
	return id[:i]
}

// assignmentBody is the PUT body of a role assignment.
type assignmentBody struct {
	Properties struct {
		RoleDefinitionID                   string  `json:"roleDefinitionId"`
		PrincipalID                        string  `json:"principalId"`
		PrincipalType                      string  `json:"principalType"`
		Description                        *string `json:"description"`
		Condition                          *string `json:"condition"`
		ConditionVersion                   *string `json:"conditionVersion"`
		DelegatedManagedIdentityResourceID *string `json:"delegatedManagedIdentityResourceId"`
	} `json:"properties"`
}

// writeAttributes are the @Request attributes of a role-assignment write.
func writeAttributes(roleGUID, principalID, principalType string) rbac.Attributes {
	a := rbac.Attributes{}
	a.Set(abac.Request, attrRoleDefinitionID, roleGUID)
	a.Set(abac.Request, attrPrincipalID, principalID)
	a.Set(abac.Request, attrPrincipalType, principalType)
	return a
}

// putRoleAssignment creates a role assignment (or rewrites its
// description and condition). The write is authorized with the request
// attributes a delegation condition constrains, checked against the
// engine's rules, and then goes through the pipeline, where policy sees
// it as a Microsoft.Authorization/roleAssignments document.
func (p *Provider) putRoleAssignment(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t := call.Target
	scope := scopeOf(t.Scope)
	var body assignmentBody
	if err := call.Decode(&body); err != nil {
		call.SkipAuthorization()
		return nil, err
	}
	pr := body.Properties
	if pr.PrincipalType == "" {
		pr.PrincipalType = rbac.PrincipalUser
	}
	guid := roleGUID(pr.RoleDefinitionID)
	attrs := writeAttributes(guid, pr.PrincipalID, pr.PrincipalType)
	if err := call.AuthorizeRequest(ctx, rbac.Request{Action: cloud.TypeRoleAssignment + "/write", Scope: t.ID,
		SubOperation: "", Attributes: attrs}); err != nil {
		return nil, err
	}
	if canonicalGUID(t.Name) == "" {
		return nil, arm.BadRequest("InvalidRoleAssignmentId", "The role assignment ID '%s' is not valid. The role assignment ID must be a GUID.", t.Name)
	}
	if strings.TrimSpace(pr.PrincipalID) == "" {
		return nil, arm.BadRequest("InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
	}
	if strings.TrimSpace(pr.RoleDefinitionID) == "" {
		return nil, arm.BadRequest("InvalidRoleDefinitionId", "The role definition ID '' is not valid.")
	}
	rd, ok := p.roleCatalog().Get(pr.RoleDefinitionID)
	if !ok {
		return nil, arm.BadRequest(rbac.CodeRoleDefinitionDoesNotExist, "The specified role definition with ID '%s' does not exist.", guid)
	}
	if err := p.requireScope(ctx, scope); err != nil {
		return nil, err
	}
	existing, err := p.get(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	if existing != nil && (!strings.EqualFold(stringAt(existing.Doc, "properties", "principalId"), pr.PrincipalID) ||
		roleGUID(stringAt(existing.Doc, "properties", "roleDefinitionId")) != rd.Name) {
		return nil, arm.BadRequest("RoleAssignmentUpdateNotPermitted",
			"Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
	}
	ra := rbac.RoleAssignment{ID: t.ID, Name: t.Name, Scope: scope, RoleDefinitionID: rd.ID, PrincipalID: pr.PrincipalID,
		PrincipalType: pr.PrincipalType}
	if pr.Condition != nil && *pr.Condition != "" {
		ra.Condition = *pr.Condition
		ra.ConditionVersion = "2.0"
		if pr.ConditionVersion != nil && *pr.ConditionVersion != "" {
			ra.ConditionVersion = *pr.ConditionVersion
		}
	}
	if err := p.validateAssignment(ra); err != nil {
		return nil, err
	}
	doc := assignmentDocument(t.ID, t.Name, scope, rd.Name, pr.PrincipalID, pr.PrincipalType, ra.Condition, ra.ConditionVersion)
	props := doc["properties"].(map[string]any)
	if pr.Description != nil {
		props["description"] = *pr.Description
	}
	if pr.DelegatedManagedIdentityResourceID != nil {
		props["delegatedManagedIdentityResourceId"] = *pr.DelegatedManagedIdentityResourceID
	}
	now := p.c.Now().UTC().Format("2006-01-02T15:04:05.0000000Z")
	props["createdOn"], props["updatedOn"] = now, now
	props["createdBy"], props["updatedBy"] = call.Principal.ObjectID, call.Principal.ObjectID
	r, created, err := p.c.Put(ctx, call, cloud.PutRequest{ID: t.ID, Type: cloud.TypeRoleAssignment, Cond: call.Precondition(),
		Build: func(existing *cloud.Resource) (map[string]any, error) {
			if existing != nil {
				for _, k := range []string{"createdOn", "createdBy"} {
					if v := stringAt(existing.Doc, "properties", k); v != "" {
						props[k] = v
					}
				}
			}
			return doc, nil
		}})
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &cloud.Response{Status: status, Body: r.Doc}, nil
}

// assignmentDocument is the stored ARM shape of a role assignment.
func assignmentDocument(id, name, scope, role, principalID, principalType, condition, conditionVersion string) map[string]any {
	props := map[string]any{
		"roleDefinitionId": subscriptionRoleID(scope, role),
		"principalId":      principalID,
		"principalType":    principalType,
		"scope":            scope,
	}
	if condition != "" {
		props["condition"], props["conditionVersion"] = condition, conditionVersion
	}
	return map[string]any{"id": id, "name": name, "type": cloud.TypeRoleAssignment, "properties": props}
}

// validateAssignment applies the engine's rules (principal type, role
// assignable at the scope, condition syntax) on a scratch engine, and
// refuses a second assignment of the same role to the same principal at
// the same scope under another name (409 RoleAssignmentExists).
func (p *Provider) validateAssignment(ra rbac.RoleAssignment) error {
	eng := p.c.Engine()
	scratch := rbac.NewEngine(eng.Catalog(), rbac.WithHierarchy(eng.Hierarchy()))
	if err := scratch.AddRoleAssignment(ra); err != nil {
		return err
	}
	want := roleGUID(ra.RoleDefinitionID)
	for _, old := range eng.RoleAssignments() {
		if roleGUID(old.RoleDefinitionID) == want && strings.EqualFold(old.PrincipalID, ra.PrincipalID) &&
			arm.EqualIDs(scopeOf(old.Scope), ra.Scope) && !arm.EqualIDs(old.ID, ra.ID) {
			return arm.Errorf(http.StatusConflict, rbac.CodeRoleAssignmentExists,
				"The role assignment already exists. The ID of the existing role assignment is %s.", old.Name)
		}
	}
	return nil
}

// deleteRoleAssignment deletes an assignment; the delete is authorized
// with the @Resource attributes of the stored assignment.
func (p *Provider) deleteRoleAssignment(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t := call.Target
	r, err := p.get(ctx, t.ID)
	if err != nil {
		call.SkipAuthorization()
		return nil, err
	}
	req := rbac.Request{Action: cloud.TypeRoleAssignment + "/delete", Scope: t.ID}
	if r != nil {
		a := rbac.Attributes{}
		a.Set(abac.Resource, attrRoleDefinitionID, roleGUID(stringAt(r.Doc, "properties", "roleDefinitionId")))
		a.Set(abac.Resource, attrPrincipalID, stringAt(r.Doc, "properties", "principalId"))
		a.Set(abac.Resource, attrPrincipalType, stringAt(r.Doc, "properties", "principalType"))
		req.Attributes = a
	}
	if err := call.AuthorizeRequest(ctx, req); err != nil {
		return nil, err
	}
	if r == nil {
		return &cloud.Response{Status: http.StatusNoContent}, nil
	}
	deleted, found, err := p.c.Delete(ctx, call, cloud.DeleteRequest{ID: t.ID, Cond: call.Precondition()})
	if err != nil {
		return nil, err
	}
	if !found {
		return &cloud.Response{Status: http.StatusNoContent}, nil
	}
	return &cloud.Response{Status: http.StatusOK, Body: deleted.Doc}, nil
}
