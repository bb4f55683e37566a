package graph

import (
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/identity"
)

var araType = typeInfo{name: "appRoleAssignment", set: "appRoleAssignments",
	filterable: []string{"id", "principalId", "resourceId", "appRoleId", "principalType"}}

// defaultAccessRole is the app role ID that grants access to a resource
// without a specific role.
const defaultAccessRole = "00000000-0000-0000-0000-000000000000"

func araJSON(a identity.AppRoleAssignment) map[string]any {
	return map[string]any{
		"@odata.type": araType.odataType(), "id": a.ID, "appRoleId": a.AppRoleID, "principalId": a.PrincipalID,
		"principalType": a.PrincipalType, "principalDisplayName": a.PrincipalDisplayName, "resourceId": a.ResourceID,
		"resourceDisplayName": a.ResourceDisplayName, "createdDateTime": timeOrZero(a.Created), "deletedDateTime": nil,
	}
}

// appRoleAssignments serves servicePrincipals/{id}/appRoleAssignments
// (granted to sp) and appRoleAssignedTo (granted for sp as resource).
func (c *call) appRoleAssignments(sp identity.ServicePrincipal, rest []string, assignedTo bool) error {
	all, err := c.h.dir.AppRoleAssignments(c.ctx, c.tenant)
	if err != nil {
		return err
	}
	mine := func(a identity.AppRoleAssignment) bool {
		if assignedTo {
			return strings.EqualFold(a.ResourceID, sp.ID)
		}
		return strings.EqualFold(a.PrincipalID, sp.ID)
	}
	switch {
	case len(rest) == 0 && c.r.Method == http.MethodGet:
		var items []map[string]any
		for _, a := range all {
			if mine(a) {
				items = append(items, araJSON(a))
			}
		}
		return c.list(araType, items, "appRoleAssignments")
	case len(rest) == 0 && c.r.Method == http.MethodPost:
		if !c.appAdmin() {
			return denied()
		}
		var in struct {
			PrincipalID string `json:"principalId"`
			ResourceID  string `json:"resourceId"`
			AppRoleID   string `json:"appRoleId"`
		}
		if err := c.decodeInto(&in); err != nil {
			return err
		}
		if assignedTo {
			if in.ResourceID != "" && !strings.EqualFold(in.ResourceID, sp.ID) {
				return badRequest("resourceId must be the service principal in the request path.")
			}
			in.ResourceID = sp.ID
		} else {
			if in.PrincipalID != "" && !strings.EqualFold(in.PrincipalID, sp.ID) {
				return badRequest("principalId must be the service principal in the request path.")
			}
			in.PrincipalID = sp.ID
		}
		return c.createAppRoleAssignment(in.PrincipalID, in.ResourceID, in.AppRoleID, all)
	case len(rest) == 1 && c.r.Method == http.MethodDelete:
		if !c.appAdmin() {
			return denied()
		}
		i := slices.IndexFunc(all, func(a identity.AppRoleAssignment) bool { return mine(a) && strings.EqualFold(a.ID, rest[0]) })
		if i < 0 {
			return notFound(rest[0])
		}
		if err := c.h.dir.DeleteAppRoleAssignment(c.ctx, all[i]); err != nil {
			return err
		}
		return c.noContent()
	}
	return noRoute(c.r)
}

func (c *call) createAppRoleAssignment(principalID, resourceID, roleID string, all []identity.AppRoleAssignment) error {
	if _, err := uuid.Parse(roleID); err != nil {
		return badRequest("appRoleId '%s' is not a GUID.", roleID)
	}
	d, err := c.snapshot()
	if err != nil {
		return err
	}
	pobj, kind, ok := d.object(principalID)
	if !ok || kind == "application" {
		return notFound(principalID)
	}
	resource, err := c.findSP(resourceID, false)
	if err != nil {
		return err
	}
	rview, err := c.spView(resource)
	if err != nil {
		return err
	}
	memberType := "User"
	ptype := "User"
	switch kind {
	case "servicePrincipal":
		memberType, ptype = "Application", "ServicePrincipal"
	case "group":
		ptype = "Group"
	}
	if !strings.EqualFold(roleID, defaultAccessRole) {
		found := false
		roles, _ := rview["appRoles"].([]any)
		for _, r := range roles {
			m, _ := r.(map[string]any)
			if id, _ := m["id"].(string); strings.EqualFold(id, roleID) {
				types, _ := m["allowedMemberTypes"].([]any)
				for _, t := range types {
					if t == memberType {
						found = true
					}
				}
			}
		}
		if !found {
			return badRequest("Permission being assigned was not found on application: app role '%s' is not defined on the resource for %s members.", roleID, memberType)
		}
	}
	for _, a := range all {
		if strings.EqualFold(a.PrincipalID, principalID) && strings.EqualFold(a.ResourceID, resource.ID) && strings.EqualFold(a.AppRoleID, roleID) {
			return badRequest("Permission being assigned already exists on the object.")
		}
	}
	name, _ := pobj["displayName"].(string)
	a := identity.AppRoleAssignment{ID: c.h.id.NewID(), TenantID: c.tenant, AppRoleID: strings.ToLower(roleID),
		PrincipalID: strings.ToLower(principalID), PrincipalType: ptype, PrincipalDisplayName: name,
		ResourceID: resource.ID, ResourceDisplayName: resource.DisplayName, Created: c.h.id.Now().UTC()}
	if err := c.h.dir.PutAppRoleAssignment(c.ctx, a); err != nil {
		return err
	}
	return c.one(araType, araJSON(a), http.StatusCreated)
}

var grantType = typeInfo{name: "oAuth2PermissionGrant", set: "oauth2PermissionGrants",
	filterable: []string{"id", "clientId", "resourceId", "consentType", "principalId"}}

func grantJSON(g identity.OAuth2PermissionGrant) map[string]any {
	return map[string]any{"id": g.ID, "clientId": g.ClientID, "consentType": g.ConsentType,
		"principalId": nullable(g.PrincipalID), "resourceId": g.ResourceID, "scope": g.Scope}
}

func (c *call) listGrants(keep func(identity.OAuth2PermissionGrant) bool) error {
	all, err := c.h.dir.Grants(c.ctx, c.tenant)
	if err != nil {
		return err
	}
	var items []map[string]any
	for _, g := range all {
		if keep(g) {
			items = append(items, grantJSON(g))
		}
	}
	return c.list(grantType, items, grantType.set)
}

// grants serves /oauth2PermissionGrants: delegated-permission consent.
func (c *call) grants(rest []string) error {
	if !c.reader() {
		return denied()
	}
	switch {
	case len(rest) == 0 && c.r.Method == http.MethodGet:
		return c.listGrants(func(identity.OAuth2PermissionGrant) bool { return true })
	case len(rest) == 0 && c.r.Method == http.MethodPost:
		if !c.appAdmin() {
			return denied()
		}
		var in identity.OAuth2PermissionGrant
		if err := c.decodeInto(&in); err != nil {
			return err
		}
		switch in.ConsentType {
		case "AllPrincipals":
			if in.PrincipalID != "" {
				return badRequest("principalId must be null when consentType is AllPrincipals.")
			}
		case "Principal":
			if in.PrincipalID == "" {
				return badRequest("principalId is required when consentType is Principal.")
			}
		default:
			return badRequest("consentType must be AllPrincipals or Principal.")
		}
		if _, err := c.findSP(in.ClientID, false); err != nil {
			return badRequest("clientId '%s' is not a service principal of this tenant.", in.ClientID)
		}
		if _, err := c.findSP(in.ResourceID, false); err != nil {
			return badRequest("resourceId '%s' is not a service principal of this tenant.", in.ResourceID)
		}
		if strings.TrimSpace(in.Scope) == "" {
			return badRequest("scope is required: a space-separated list of delegated permission values.")
		}
		in.ID, in.TenantID = strings.ReplaceAll(c.h.id.NewID(), "-", ""), c.tenant
		if err := c.h.dir.PutGrant(c.ctx, in); err != nil {
			return err
		}
		out := grantJSON(in)
		out["@odata.context"] = c.base + "/$metadata#oauth2PermissionGrants/$entity"
		c.writeJSON(http.StatusCreated, out)
		return nil
	case len(rest) == 1:
		all, err := c.h.dir.Grants(c.ctx, c.tenant)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(all, func(g identity.OAuth2PermissionGrant) bool { return g.ID == rest[0] })
		if i < 0 {
			return notFound(rest[0])
		}
		switch c.r.Method {
		case http.MethodGet:
			return c.one(grantType, grantJSON(all[i]), http.StatusOK)
		case http.MethodDelete:
			if !c.appAdmin() {
				return denied()
			}
			if err := c.h.dir.DeleteGrant(c.ctx, all[i]); err != nil {
				return err
			}
			return c.noContent()
		case http.MethodPatch:
			if !c.appAdmin() {
				return denied()
			}
			body, err := c.decode()
			if err != nil {
				return err
			}
			for k := range body {
				if k != "scope" {
					return badRequest("Only 'scope' of an oAuth2PermissionGrant can be updated.")
				}
			}
			s, _, err := str(body, "scope")
			if err != nil {
				return err
			}
			all[i].Scope = s
			if err := c.h.dir.PutGrant(c.ctx, all[i]); err != nil {
				return err
			}
			return c.noContent()
		}
		return methodNotAllowed(c.r)
	}
	return noRoute(c.r)
}

var (
	roleDefType        = typeInfo{name: "unifiedRoleDefinition", set: "roleManagement/directory/roleDefinitions", filterable: []string{"id", "displayName", "templateId"}}
	roleAssignmentType = typeInfo{name: "unifiedRoleAssignment", set: "roleManagement/directory/roleAssignments",
		filterable: []string{"id", "principalId", "roleDefinitionId", "directoryScopeId"}}
)

func roleAssignmentJSON(ra identity.RoleAssignment) map[string]any {
	return map[string]any{"id": ra.ID, "principalId": ra.PrincipalID, "roleDefinitionId": ra.RoleDefinitionID,
		"directoryScopeId": ra.DirectoryScopeID, "appScopeId": nil}
}

// roleManagement serves roleManagement/directory/roleDefinitions and
// roleAssignments: only a Global Administrator assigns directory roles.
func (c *call) roleManagement(rest []string) error {
	if len(rest) < 2 || !strings.EqualFold(rest[0], "directory") {
		return noRoute(c.r)
	}
	if !c.reader() {
		return denied()
	}
	switch strings.ToLower(rest[1]) {
	case "roledefinitions":
		if c.r.Method != http.MethodGet {
			return methodNotAllowed(c.r)
		}
		var items []map[string]any
		for _, r := range identity.DirectoryRoles {
			items = append(items, map[string]any{"id": r.ID, "templateId": r.ID, "displayName": r.DisplayName,
				"description": r.Description, "isBuiltIn": true, "isEnabled": true})
		}
		if len(rest) == 3 {
			for _, it := range items {
				if strings.EqualFold(it["id"].(string), rest[2]) {
					return c.one(roleDefType, it, http.StatusOK)
				}
			}
			return notFound(rest[2])
		}
		return c.list(roleDefType, items, roleDefType.set)
	case "roleassignments":
		all, err := c.h.dir.RoleAssignments(c.ctx, c.tenant)
		if err != nil {
			return err
		}
		switch {
		case len(rest) == 2 && c.r.Method == http.MethodGet:
			items := make([]map[string]any, 0, len(all))
			for _, ra := range all {
				items = append(items, roleAssignmentJSON(ra))
			}
			return c.list(roleAssignmentType, items, roleAssignmentType.set)
		case len(rest) == 2 && c.r.Method == http.MethodPost:
			if !c.has() {
				return denied()
			}
			var in identity.RoleAssignment
			if err := c.decodeInto(&in); err != nil {
				return err
			}
			if in.DirectoryScopeID != "/" {
				return badRequest("directoryScopeId must be '/': Steward assigns directory roles at the tenant scope only.")
			}
			if _, ok := identity.DirectoryRoleByID(in.RoleDefinitionID); !ok {
				return badRequest("roleDefinitionId '%s' is not a directory role Steward knows (see roleManagement/directory/roleDefinitions).", in.RoleDefinitionID)
			}
			d, err := c.snapshot()
			if err != nil {
				return err
			}
			if _, kind, ok := d.object(in.PrincipalID); !ok || kind == "application" {
				return badRequest("principalId '%s' is not a user, group or service principal of this tenant.", in.PrincipalID)
			}
			in.ID, in.TenantID = c.h.id.NewID(), c.tenant
			ra, err := c.h.dir.AssignRole(c.ctx, in)
			if err != nil {
				return err
			}
			return c.one(roleAssignmentType, roleAssignmentJSON(ra), http.StatusCreated)
		case len(rest) == 3:
			i := slices.IndexFunc(all, func(ra identity.RoleAssignment) bool { return strings.EqualFold(ra.ID, rest[2]) })
			if i < 0 {
				return notFound(rest[2])
			}
			switch c.r.Method {
			case http.MethodGet:
				return c.one(roleAssignmentType, roleAssignmentJSON(all[i]), http.StatusOK)
			case http.MethodDelete:
				if !c.has() {
					return denied()
				}
				if c.is(all[i].PrincipalID) && strings.EqualFold(all[i].RoleDefinitionID, identity.RoleGlobalAdministrator) {
					return badRequest("A Global Administrator cannot remove their own Global Administrator role.")
				}
				if err := c.h.dir.DeleteRoleAssignment(c.ctx, all[i]); err != nil {
					return err
				}
				return c.noContent()
			}
			return methodNotAllowed(c.r)
		}
	}
	return noRoute(c.r)
}
