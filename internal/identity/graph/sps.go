package graph

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/steward-gov/steward/internal/identity"
)

var spType = typeInfo{name: "servicePrincipal", set: "servicePrincipals",
	filterable: []string{"id", "appId", "displayName", "servicePrincipalNames", "accountEnabled", "servicePrincipalType",
		"appOwnerOrganizationId", "tags", "alternativeNames"},
	orderable: []string{"displayName"}}

// spJSON is a service principal's Graph representation; app, when known,
// contributes the properties Entra copies from the application
// (identifier URIs as service principal names, app roles, scopes).
func spJSON(sp identity.ServicePrincipal, app *identity.Application) map[string]any {
	owner := sp.AppOwnerTenantID
	if owner == "" {
		owner = sp.TenantID
	}
	names := []string{sp.AppID}
	m := map[string]any{
		"@odata.type":                spType.odataType(),
		"id":                         sp.ID,
		"appId":                      sp.AppID,
		"displayName":                sp.DisplayName,
		"appDisplayName":             sp.DisplayName,
		"accountEnabled":             sp.AccountEnabled,
		"appOwnerOrganizationId":     owner,
		"servicePrincipalType":       "Application",
		"createdDateTime":            timeOrZero(sp.Created),
		"deletedDateTime":            nil,
		"alternativeNames":           []string{},
		"appRoleAssignmentRequired":  false,
		"appRoles":                   []any{},
		"oauth2PermissionScopes":     []any{},
		"keyCredentials":             []any{},
		"passwordCredentials":        []any{},
		"tags":                       []string{},
		"replyUrls":                  []string{},
		"notificationEmailAddresses": []string{},
		"description":                nil,
		"notes":                      nil,
		"homepage":                   nil,
		"loginUrl":                   nil,
		"logoutUrl":                  nil,
		"preferredSingleSignOnMode":  nil,
		"signInAudience":             identity.AudienceMyOrg,
	}
	if app != nil {
		names = append(names, app.IdentifierURIs...)
		m["appDisplayName"] = app.DisplayName
		if app.SignInAudience != "" {
			m["signInAudience"] = app.SignInAudience
		}
		a := appJSON(*app)
		m["appRoles"] = a["appRoles"]
		if api, ok := a["api"].(map[string]any); ok {
			m["oauth2PermissionScopes"] = api["oauth2PermissionScopes"]
		}
		if web, ok := a["web"].(map[string]any); ok {
			m["replyUrls"] = web["redirectUris"]
		}
	}
	m["servicePrincipalNames"] = names
	return withProps(m, sp.Properties)
}

// spView renders a service principal with its application, read from the
// tenant that registered it.
func (c *call) spView(sp identity.ServicePrincipal) (map[string]any, error) {
	owner := sp.AppOwnerTenantID
	if owner == "" {
		owner = sp.TenantID
	}
	app, err := c.h.dir.Application(c.ctx, owner, sp.AppID)
	if errors.Is(err, identity.ErrNotFound) {
		return spJSON(sp, nil), nil
	} else if err != nil {
		return nil, err
	}
	return spJSON(sp, &app), nil
}

func (c *call) findSP(id string, byAppID bool) (identity.ServicePrincipal, error) {
	if byAppID {
		sp, err := c.h.dir.ServicePrincipal(c.ctx, c.tenant, id)
		if errors.Is(err, identity.ErrNotFound) {
			return sp, notFound(id)
		}
		return sp, err
	}
	sp, err := c.h.dir.ServicePrincipalByObjectID(c.ctx, c.tenant, id)
	if errors.Is(err, identity.ErrNotFound) {
		return sp, notFound(id)
	}
	return sp, err
}

func (c *call) servicePrincipals(key string, rest []string) error {
	if key == "" && len(rest) == 0 {
		switch c.r.Method {
		case http.MethodGet:
			if !c.reader() {
				return denied()
			}
			sps, err := c.h.dir.ServicePrincipals(c.ctx, c.tenant)
			if err != nil {
				return err
			}
			items := make([]map[string]any, 0, len(sps))
			for _, sp := range sps {
				v, err := c.spView(sp)
				if err != nil {
					return err
				}
				items = append(items, v)
			}
			return c.list(spType, items, spType.set)
		case http.MethodPost:
			return c.createSP()
		}
		return methodNotAllowed(c.r)
	}
	if key == "" && rest[0] == "$count" {
		if !c.reader() {
			return denied()
		}
		sps, err := c.h.dir.ServicePrincipals(c.ctx, c.tenant)
		if err != nil {
			return err
		}
		return c.countOnly(len(sps))
	}
	var sp identity.ServicePrincipal
	var err error
	if key != "" {
		appID, ok := keyValue(key, "appId")
		if !ok {
			return badRequest("Invalid key '%s': use servicePrincipals/{id} or servicePrincipals(appId='{appId}').", key)
		}
		sp, err = c.findSP(appID, true)
	} else {
		sp, err = c.findSP(rest[0], false)
		rest = rest[1:]
	}
	if err != nil {
		return err
	}
	canWrite := c.appAdmin() || c.owns(sp.Owners)
	if !c.reader() && !canWrite && !c.is(sp.ID) {
		return denied()
	}
	if c.r.Method != http.MethodGet {
		if canWrite, err = c.guard(canWrite, sp.ID); err != nil {
			return err
		}
	}
	if len(rest) == 0 {
		switch c.r.Method {
		case http.MethodGet:
			v, err := c.spView(sp)
			if err != nil {
				return err
			}
			return c.one(spType, v, http.StatusOK)
		case http.MethodPatch:
			if err := allow(canWrite); err != nil {
				return err
			}
			body, err := c.decode()
			if err != nil {
				return err
			}
			if err := c.applySP(&sp, body); err != nil {
				return err
			}
			if err := c.h.dir.PutServicePrincipal(c.ctx, sp); err != nil {
				return err
			}
			return c.noContent()
		case http.MethodDelete:
			if err := allow(canWrite); err != nil {
				return err
			}
			if err := c.h.dir.DeleteServicePrincipal(c.ctx, sp); err != nil {
				return err
			}
			return c.noContent()
		}
		return methodNotAllowed(c.r)
	}
	switch strings.ToLower(rest[0]) {
	case "owners":
		return c.references(rest[1:], sp.Owners, canWrite, "owners", func(ids []string) error {
			sp.Owners = ids
			return c.h.dir.PutServicePrincipal(c.ctx, sp)
		})
	case "approleassignments":
		return c.appRoleAssignments(sp, rest[1:], false)
	case "approleassignedto":
		return c.appRoleAssignments(sp, rest[1:], true)
	case "oauth2permissiongrants":
		if c.r.Method != http.MethodGet || len(rest) != 1 {
			return noRoute(c.r)
		}
		return c.listGrants(func(g identity.OAuth2PermissionGrant) bool { return strings.EqualFold(g.ClientID, sp.ID) })
	case "addpassword", "removepassword", "addkey", "removekey":
		return badRequest("Credentials on service principals are not supported by Steward: add them to the application (applications/{id}/%s).", rest[0])
	}
	d, err := c.snapshot()
	if err != nil {
		return err
	}
	return c.memberFunctions(d, sp.ID, rest)
}

// applySP applies writable service principal properties.
func (c *call) applySP(sp *identity.ServicePrincipal, body map[string]json.RawMessage) error {
	if v, ok, err := boolean(body, "accountEnabled"); err != nil {
		return err
	} else if ok {
		sp.AccountEnabled = v
	}
	if s, ok, err := str(body, "displayName"); err != nil {
		return err
	} else if ok {
		if strings.TrimSpace(s) == "" {
			return badRequest("Invalid value specified for property 'displayName' of resource 'ServicePrincipal'.")
		}
		sp.DisplayName = s
	}
	for _, ro := range []string{"appId", "servicePrincipalNames", "appOwnerOrganizationId", "servicePrincipalType"} {
		if _, ok := body[ro]; ok && ro != "appId" {
			return badRequest("Property '%s' is read-only.", ro)
		}
	}
	props, err := setProps("microsoft.graph.servicePrincipal", spProps, sp.Properties, body, "accountEnabled", "displayName", "appId")
	if err != nil {
		return err
	}
	sp.Properties = props
	return nil
}

// createSP creates the service principal of an application in the
// caller's tenant: the tenant's own application, or (consent) a
// multi-tenant application of another tenant.
func (c *call) createSP() error {
	body, err := c.decode()
	if err != nil {
		return err
	}
	appID, _, err := str(body, "appId")
	if err != nil {
		return err
	}
	if appID == "" {
		return badRequest("Property 'appId' is required when creating a service principal.")
	}
	owner, err := c.h.dir.ApplicationOwnerTenant(c.ctx, appID)
	if errors.Is(err, identity.ErrNotFound) {
		return badRequest("The appId '%s' of the service principal does not reference a valid application object.", appID)
	} else if err != nil {
		return err
	}
	app, err := c.h.dir.Application(c.ctx, owner, appID)
	if errors.Is(err, identity.ErrNotFound) {
		return badRequest("The appId '%s' of the service principal does not reference a valid application object.", appID)
	} else if err != nil {
		return err
	}
	foreign := !strings.EqualFold(owner, c.tenant)
	if foreign && app.SignInAudience != identity.AudienceMultipleOrgs {
		return badRequest("When using this permission, the backing application of the service principal being created must in the local tenant (the application '%s' is single-tenant).", appID)
	}
	if !c.appAdmin() && (foreign || !c.owns(app.Owners)) {
		return denied()
	}
	if _, err := c.h.dir.ServicePrincipal(c.ctx, c.tenant, appID); err == nil {
		return gerr(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue",
			"The service principal cannot be created, updated, or restored because the service principal name %s is already in use.", appID)
	} else if !errors.Is(err, identity.ErrNotFound) {
		return err
	}
	sp := identity.ServicePrincipal{ID: c.h.id.NewID(), AppID: strings.ToLower(app.AppID), TenantID: c.tenant,
		DisplayName: app.DisplayName, AccountEnabled: true, Created: c.h.id.Now().UTC()}
	if foreign {
		sp.AppOwnerTenantID = strings.ToLower(owner)
	}
	if err := c.applySP(&sp, body); err != nil {
		return err
	}
	if c.p.IdentityType == "user" {
		sp.Owners = []string{strings.ToLower(c.p.ObjectID)}
	}
	if err := c.h.dir.PutServicePrincipal(c.ctx, sp); err != nil {
		return err
	}
	v := spJSON(sp, &app)
	return c.one(spType, v, http.StatusCreated)
}

var _ = slices.Contains[[]string]
