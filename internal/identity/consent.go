package identity

import (
	"context"
	"strings"
	"time"
)

// Tables of consent records.
const (
	tableAppRoleAssignments = "identity.approleassignments"
	tableGrants             = "identity.oauth2grants"
)

// AppRoleAssignment grants an app role of a resource service principal
// to a user, group or service principal (application permissions, when
// the principal is a service principal).
type AppRoleAssignment struct {
	ID                   string    `json:"id"`
	TenantID             string    `json:"tenantId"`
	AppRoleID            string    `json:"appRoleId"`
	PrincipalID          string    `json:"principalId"`
	PrincipalType        string    `json:"principalType"`
	PrincipalDisplayName string    `json:"principalDisplayName"`
	ResourceID           string    `json:"resourceId"`
	ResourceDisplayName  string    `json:"resourceDisplayName"`
	Created              time.Time `json:"createdDateTime"`
}

// OAuth2PermissionGrant is a delegated-permission consent: the client
// service principal may call the resource with the scopes, for every user
// (ConsentType AllPrincipals) or for PrincipalID only.
type OAuth2PermissionGrant struct {
	ID          string `json:"id"`
	TenantID    string `json:"tenantId"`
	ClientID    string `json:"clientId"`
	ConsentType string `json:"consentType"`
	PrincipalID string `json:"principalId,omitempty"`
	ResourceID  string `json:"resourceId"`
	Scope       string `json:"scope"`
}

// PutAppRoleAssignment writes an app role assignment.
func (d *Directory) PutAppRoleAssignment(ctx context.Context, a AppRoleAssignment) error {
	return d.put(ctx, tableAppRoleAssignments, tkey(a.TenantID, a.ID), a)
}

// AppRoleAssignments lists a tenant's app role assignments.
func (d *Directory) AppRoleAssignments(ctx context.Context, tenantID string) ([]AppRoleAssignment, error) {
	return list[AppRoleAssignment](ctx, d, tableAppRoleAssignments, strings.ToLower(tenantID)+"/")
}

// DeleteAppRoleAssignment removes an app role assignment.
func (d *Directory) DeleteAppRoleAssignment(ctx context.Context, a AppRoleAssignment) error {
	return d.recs.Delete(ctx, tableAppRoleAssignments, tkey(a.TenantID, a.ID))
}

// PutGrant writes a delegated-permission grant.
func (d *Directory) PutGrant(ctx context.Context, g OAuth2PermissionGrant) error {
	return d.put(ctx, tableGrants, tkey(g.TenantID, g.ID), g)
}

// Grants lists a tenant's delegated-permission grants.
func (d *Directory) Grants(ctx context.Context, tenantID string) ([]OAuth2PermissionGrant, error) {
	return list[OAuth2PermissionGrant](ctx, d, tableGrants, strings.ToLower(tenantID)+"/")
}

// DeleteGrant removes a delegated-permission grant.
func (d *Directory) DeleteGrant(ctx context.Context, g OAuth2PermissionGrant) error {
	return d.recs.Delete(ctx, tableGrants, tkey(g.TenantID, g.ID))
}
