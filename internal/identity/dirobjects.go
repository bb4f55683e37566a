package identity

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// Tables that index the directory for Microsoft Graph's lookups.
const (
	// tableAppIDs maps an app ID to the tenant that registered it, so a
	// multi-tenant application is found from another tenant.
	tableAppIDs = "identity.appids"
	// tableRoles holds directory role assignments, keyed
	// tenant/principal/role.
	tableRoles = "identity.directoryroles"
	// tableObjectIDs maps tenant/objectID of an application or service
	// principal to its app ID, since both are keyed by app ID.
	tableObjectIDs = "identity.objectids"
)

// ApplicationByObjectID finds an application by object ID through the
// index, or by a scan for records written before the index existed.
func (d *Directory) ApplicationByObjectID(ctx context.Context, tenantID, objectID string) (Application, error) {
	if b, err := d.recs.Get(ctx, tableObjectIDs, tkey(tenantID, objectID)); err == nil {
		if a, err := d.Application(ctx, tenantID, string(b)); err == nil && strings.EqualFold(a.ObjectID, objectID) {
			return a, nil
		}
	} else if !errors.Is(err, ErrNotFound) {
		return Application{}, err
	}
	apps, err := d.Applications(ctx, tenantID)
	if err != nil {
		return Application{}, err
	}
	for _, a := range apps {
		if strings.EqualFold(a.ObjectID, objectID) {
			return a, nil
		}
	}
	return Application{}, ErrNotFound
}

// ServicePrincipalByObjectID finds a service principal by object ID, as
// ApplicationByObjectID does.
func (d *Directory) ServicePrincipalByObjectID(ctx context.Context, tenantID, objectID string) (ServicePrincipal, error) {
	if b, err := d.recs.Get(ctx, tableObjectIDs, tkey(tenantID, objectID)); err == nil {
		if sp, err := d.ServicePrincipal(ctx, tenantID, string(b)); err == nil && strings.EqualFold(sp.ID, objectID) {
			return sp, nil
		}
	} else if !errors.Is(err, ErrNotFound) {
		return ServicePrincipal{}, err
	}
	sps, err := d.ServicePrincipals(ctx, tenantID)
	if err != nil {
		return ServicePrincipal{}, err
	}
	for _, sp := range sps {
		if strings.EqualFold(sp.ID, objectID) {
			return sp, nil
		}
	}
	return ServicePrincipal{}, ErrNotFound
}

func (d *Directory) indexObject(ctx context.Context, tenantID, objectID, appID string) error {
	return d.recs.Put(ctx, tableObjectIDs, tkey(tenantID, objectID), []byte(strings.ToLower(appID)))
}

func (d *Directory) unindexObject(ctx context.Context, tenantID, objectID string) error {
	if err := d.recs.Delete(ctx, tableObjectIDs, tkey(tenantID, objectID)); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// Sign-in audiences of an application.
const (
	AudienceMyOrg        = "AzureADMyOrg"
	AudienceMultipleOrgs = "AzureADMultipleOrgs"
)

// Applications lists a tenant's app registrations.
func (d *Directory) Applications(ctx context.Context, tenantID string) ([]Application, error) {
	return list[Application](ctx, d, tableApps, strings.ToLower(tenantID)+"/")
}

// ServicePrincipals lists a tenant's service principals.
func (d *Directory) ServicePrincipals(ctx context.Context, tenantID string) ([]ServicePrincipal, error) {
	return list[ServicePrincipal](ctx, d, tableSPs, strings.ToLower(tenantID)+"/")
}

// Users lists a tenant's users.
func (d *Directory) Users(ctx context.Context, tenantID string) ([]User, error) {
	return list[User](ctx, d, tableUsers, strings.ToLower(tenantID)+"/")
}

// Tenants lists every tenant.
func (d *Directory) Tenants(ctx context.Context) ([]Tenant, error) {
	return list[Tenant](ctx, d, tableTenants, "")
}

// Group reads a group by object ID.
func (d *Directory) Group(ctx context.Context, tenantID, id string) (Group, error) {
	var g Group
	return g, d.get(ctx, tableGroups, tkey(tenantID, id), &g)
}

// ApplicationOwnerTenant returns the tenant that registered appID, in any
// tenant of this directory.
func (d *Directory) ApplicationOwnerTenant(ctx context.Context, appID string) (string, error) {
	b, err := d.recs.Get(ctx, tableAppIDs, strings.ToLower(appID))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// ResourceOwner returns the app ID that a resource identifier (app ID or
// identifier URI) names in a tenant, or ErrNotFound.
func (d *Directory) ResourceOwner(ctx context.Context, tenantID, resource string) (string, error) {
	b, err := d.recs.Get(ctx, tableResources, tkey(tenantID, normalizeResource(resource)))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// DeleteApplication removes an app registration and its resource index
// entries; its service principals are the caller's to remove.
func (d *Directory) DeleteApplication(ctx context.Context, a Application) error {
	for _, uri := range append([]string{a.AppID}, a.IdentifierURIs...) {
		if err := d.recs.Delete(ctx, tableResources, tkey(a.TenantID, normalizeResource(uri))); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if err := d.recs.Delete(ctx, tableAppIDs, strings.ToLower(a.AppID)); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := d.unindexObject(ctx, a.TenantID, a.ObjectID); err != nil {
		return err
	}
	return d.recs.Delete(ctx, tableApps, tkey(a.TenantID, a.AppID))
}

// DeleteServicePrincipal removes a service principal and its directory
// role assignments, and takes it out of every group and owner list.
func (d *Directory) DeleteServicePrincipal(ctx context.Context, sp ServicePrincipal) error {
	if err := d.forgetObject(ctx, sp.TenantID, sp.ID); err != nil {
		return err
	}
	if err := d.unindexObject(ctx, sp.TenantID, sp.ID); err != nil {
		return err
	}
	return d.recs.Delete(ctx, tableSPs, tkey(sp.TenantID, sp.AppID))
}

// DeleteUser removes a user, its name index and role assignments, and
// takes it out of every group and owner list.
func (d *Directory) DeleteUser(ctx context.Context, u User) error {
	if err := d.forgetObject(ctx, u.TenantID, u.ID); err != nil {
		return err
	}
	if err := d.recs.Delete(ctx, tableUPNs, tkey(u.TenantID, u.UserPrincipalName)); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	for _, n := range signInNames(u) {
		if err := d.recs.Delete(ctx, tableSignInNames, tkey(u.TenantID, n)); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return d.recs.Delete(ctx, tableUsers, tkey(u.TenantID, u.ID))
}

// DeleteGroup removes a group and takes it out of the groups that contain
// it.
func (d *Directory) DeleteGroup(ctx context.Context, g Group) error {
	if err := d.forgetObject(ctx, g.TenantID, g.ID); err != nil {
		return err
	}
	return d.recs.Delete(ctx, tableGroups, tkey(g.TenantID, g.ID))
}

// forgetObject removes an object ID from group memberships, group and
// application owners, and deletes its directory role assignments, so a
// deleted object leaves no dangling reference (and a re-used ID could
// not inherit rights).
func (d *Directory) forgetObject(ctx context.Context, tenantID, id string) error {
	groups, err := d.Groups(ctx, tenantID)
	if err != nil {
		return err
	}
	drop := func(ids []string) ([]string, bool) {
		out := slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return strings.EqualFold(s, id) })
		return out, len(out) != len(ids)
	}
	for _, g := range groups {
		m, c1 := drop(g.Members)
		o, c2 := drop(g.Owners)
		if c1 || c2 {
			g.Members, g.Owners = m, o
			if err := d.PutGroup(ctx, g); err != nil {
				return err
			}
		}
	}
	apps, err := d.Applications(ctx, tenantID)
	if err != nil {
		return err
	}
	for _, a := range apps {
		if o, changed := drop(a.Owners); changed {
			a.Owners = o
			if err := d.PutApplication(ctx, a); err != nil {
				return err
			}
		}
	}
	roles, err := d.RoleAssignments(ctx, tenantID)
	if err != nil {
		return err
	}
	for _, r := range roles {
		if strings.EqualFold(r.PrincipalID, id) {
			if err := d.DeleteRoleAssignment(ctx, r); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
	}
	return nil
}
