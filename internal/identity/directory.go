package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Tables of the directory in [Records].
const (
	tableTenants   = "identity.tenants"
	tableApps      = "identity.applications"
	tableSPs       = "identity.serviceprincipals"
	tableUsers     = "identity.users"
	tableGroups    = "identity.groups"
	tableResources = "identity.resources"
	tableKeys      = "identity.signingkeys"
	tableJTI       = "identity.assertions"
	tableUPNs      = "identity.upns"
)

// Directory reads and writes the directory objects in [Records]. Keys fold
// GUIDs and URIs to lower case, as Entra compares them case-insensitively.
type Directory struct {
	recs Records
}

// NewDirectory returns a Directory over recs.
func NewDirectory(recs Records) *Directory { return &Directory{recs: recs} }

func tkey(tenantID, id string) string { return strings.ToLower(tenantID) + "/" + strings.ToLower(id) }

func (d *Directory) get(ctx context.Context, table, key string, out any) error {
	b, err := d.recs.Get(ctx, table, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("identity: decode %s %q: %w", table, key, err)
	}
	return nil
}

func (d *Directory) put(ctx context.Context, table, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return d.recs.Put(ctx, table, key, b)
}

func list[T any](ctx context.Context, d *Directory, table, prefix string) ([]T, error) {
	vals, err := d.recs.List(ctx, table, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(vals))
	for _, b := range vals {
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("identity: decode %s: %w", table, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// CreateTenant adds a tenant; it fails with ErrExists when the ID is taken.
func (d *Directory) CreateTenant(ctx context.Context, t Tenant) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return d.recs.Create(ctx, tableTenants, strings.ToLower(t.ID), b)
}

// Tenant finds a tenant by ID or by one of its domain names.
func (d *Directory) Tenant(ctx context.Context, idOrDomain string) (Tenant, error) {
	var t Tenant
	if !validTenantRef(idOrDomain) {
		return t, errBadTenantRef
	}
	err := d.get(ctx, tableTenants, strings.ToLower(idOrDomain), &t)
	if !errors.Is(err, ErrNotFound) {
		return t, err
	}
	all, lerr := list[Tenant](ctx, d, tableTenants, "")
	if lerr != nil {
		return t, lerr
	}
	for _, t := range all {
		if slices.ContainsFunc(t.Domains, func(s string) bool { return strings.EqualFold(s, idOrDomain) }) {
			return t, nil
		}
	}
	return Tenant{}, err
}

// errBadTenantRef is returned by Tenant for a reference that is neither a
// tenant ID nor a domain name; it matches ErrNotFound.
var errBadTenantRef = fmt.Errorf("%w: malformed tenant reference", ErrNotFound)

// validTenantRef reports whether s can be a tenant ID or a domain name:
// 1 to 253 letters, digits, dots, hyphens and underscores.
func validTenantRef(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// PutApplication writes an application and indexes its app ID and
// identifier URIs as resources that tokens can be requested for.
func (d *Directory) PutApplication(ctx context.Context, a Application) error {
	var old Application
	if err := d.get(ctx, tableApps, tkey(a.TenantID, a.AppID), &old); err == nil {
		for _, uri := range old.IdentifierURIs {
			if !slices.ContainsFunc(a.IdentifierURIs, func(s string) bool { return normalizeResource(s) == normalizeResource(uri) }) {
				if err := d.recs.Delete(ctx, tableResources, tkey(a.TenantID, normalizeResource(uri))); err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
			}
		}
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := d.put(ctx, tableApps, tkey(a.TenantID, a.AppID), a); err != nil {
		return err
	}
	if err := d.recs.Put(ctx, tableAppIDs, strings.ToLower(a.AppID), []byte(strings.ToLower(a.TenantID))); err != nil {
		return err
	}
	if err := d.indexObject(ctx, a.TenantID, a.ObjectID, a.AppID); err != nil {
		return err
	}
	for _, uri := range append([]string{a.AppID}, a.IdentifierURIs...) {
		if err := d.recs.Put(ctx, tableResources, tkey(a.TenantID, normalizeResource(uri)), []byte(a.AppID)); err != nil {
			return err
		}
	}
	return nil
}

// Application reads an application by client (app) ID.
func (d *Directory) Application(ctx context.Context, tenantID, appID string) (Application, error) {
	var a Application
	return a, d.get(ctx, tableApps, tkey(tenantID, appID), &a)
}

// PutServicePrincipal writes a service principal, keyed by its app ID.
func (d *Directory) PutServicePrincipal(ctx context.Context, sp ServicePrincipal) error {
	if err := d.put(ctx, tableSPs, tkey(sp.TenantID, sp.AppID), sp); err != nil {
		return err
	}
	return d.indexObject(ctx, sp.TenantID, sp.ID, sp.AppID)
}

// ServicePrincipal reads the service principal of an app in a tenant.
func (d *Directory) ServicePrincipal(ctx context.Context, tenantID, appID string) (ServicePrincipal, error) {
	var sp ServicePrincipal
	return sp, d.get(ctx, tableSPs, tkey(tenantID, appID), &sp)
}

// PutUser writes a user and indexes its user principal name and its
// local sign-in names (identities of signInType emailAddress or
// userName). It fails with ErrExists, writing nothing, when a sign-in name
// belongs to another user of the tenant.
func (d *Directory) PutUser(ctx context.Context, u User) error {
	var old User
	if err := d.get(ctx, tableUsers, tkey(u.TenantID, u.ID), &old); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := d.indexSignInNames(ctx, old, u); err != nil {
		return err
	}
	if old.ID != "" && !strings.EqualFold(old.UserPrincipalName, u.UserPrincipalName) {
		if err := d.recs.Delete(ctx, tableUPNs, tkey(u.TenantID, old.UserPrincipalName)); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if err := d.put(ctx, tableUsers, tkey(u.TenantID, u.ID), u); err != nil {
		return err
	}
	return d.recs.Put(ctx, tableUPNs, tkey(u.TenantID, u.UserPrincipalName), []byte(u.ID))
}

// UserByUPN reads a user by user principal name (case-insensitive).
func (d *Directory) UserByUPN(ctx context.Context, tenantID, upn string) (User, error) {
	id, err := d.recs.Get(ctx, tableUPNs, tkey(tenantID, upn))
	if err != nil {
		return User{}, err
	}
	u, err := d.User(ctx, tenantID, string(id))
	if err == nil && !strings.EqualFold(u.UserPrincipalName, upn) {
		return User{}, ErrNotFound // a stale index entry after a rename
	}
	return u, err
}

// User reads a user by object ID.
func (d *Directory) User(ctx context.Context, tenantID, id string) (User, error) {
	var u User
	return u, d.get(ctx, tableUsers, tkey(tenantID, id), &u)
}

// PutGroup writes a group.
func (d *Directory) PutGroup(ctx context.Context, g Group) error {
	return d.put(ctx, tableGroups, tkey(g.TenantID, g.ID), g)
}

// Groups lists a tenant's groups.
func (d *Directory) Groups(ctx context.Context, tenantID string) ([]Group, error) {
	return list[Group](ctx, d, tableGroups, strings.ToLower(tenantID)+"/")
}

// HasResource reports whether resource (a scope without "/.default") names
// an application of the tenant by app ID or identifier URI.
func (d *Directory) HasResource(ctx context.Context, tenantID, resource string) (bool, error) {
	_, err := d.recs.Get(ctx, tableResources, tkey(tenantID, normalizeResource(resource)))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// normalizeResource folds a resource identifier for lookup: lower case,
// without a trailing slash (Entra treats "https://x/" and "https://x" as one
// resource while keeping the caller's spelling in aud).
func normalizeResource(r string) string {
	return strings.TrimRight(strings.ToLower(r), "/")
}
