package identity

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// Directory role template IDs: Entra's built-in roles, with the IDs that
// are the same in every tenant.
const (
	RoleGlobalAdministrator      = "62e90394-69f5-4237-9190-012177145e10"
	RoleApplicationAdministrator = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	RoleGroupsAdministrator      = "fdd7a751-b60b-444a-984c-02652fe8fa1c"
	RoleUserAdministrator        = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	RoleDirectoryReaders         = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
	RoleReportsReader            = "4a5d8f65-41da-4de4-8968-e035b65339cf"
	RoleGlobalReader             = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
)

// DirectoryRole is a built-in directory role.
type DirectoryRole struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
}

// DirectoryRoles are the roles Steward's directory knows; an assignment
// of any other role is refused.
var DirectoryRoles = []DirectoryRole{
	{RoleGlobalAdministrator, "Global Administrator", "Can manage all aspects of the directory."},
	{RoleApplicationAdministrator, "Application Administrator", "Can create and manage all aspects of app registrations and service principals."},
	{RoleGroupsAdministrator, "Groups Administrator", "Can create and manage groups and their members and owners."},
	{RoleUserAdministrator, "User Administrator", "Can create and manage users and groups (not administrators)."},
	{RoleDirectoryReaders, "Directory Readers", "Can read the directory's users, groups, applications and service principals."},
	{RoleReportsReader, "Reports Reader", "Can read sign-in and audit reports."},
	{RoleGlobalReader, "Global Reader", "Can read everything that a Global Administrator can, but not update anything."},
}

// DirectoryRoleByID finds a built-in role by template ID.
func DirectoryRoleByID(id string) (DirectoryRole, bool) {
	i := slices.IndexFunc(DirectoryRoles, func(r DirectoryRole) bool { return strings.EqualFold(r.ID, id) })
	if i < 0 {
		return DirectoryRole{}, false
	}
	return DirectoryRoles[i], true
}

// RoleAssignment grants a directory role to a principal (user, service
// principal or group) in a tenant, at the directory scope "/".
type RoleAssignment struct {
	ID               string `json:"id"`
	TenantID         string `json:"tenantId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	PrincipalID      string `json:"principalId"`
	DirectoryScopeID string `json:"directoryScopeId"`
}

func roleKey(tenantID, principalID, roleID string) string {
	return tkey(tenantID, principalID) + "/" + strings.ToLower(roleID)
}

// AssignRole records a role assignment; assigning a role a principal
// already holds is a no-op that returns the existing assignment.
func (d *Directory) AssignRole(ctx context.Context, ra RoleAssignment) (RoleAssignment, error) {
	if _, ok := DirectoryRoleByID(ra.RoleDefinitionID); !ok {
		return RoleAssignment{}, errors.New("identity: unknown directory role " + ra.RoleDefinitionID)
	}
	ra.TenantID, ra.PrincipalID, ra.RoleDefinitionID = strings.ToLower(ra.TenantID), strings.ToLower(ra.PrincipalID), strings.ToLower(ra.RoleDefinitionID)
	if ra.DirectoryScopeID == "" {
		ra.DirectoryScopeID = "/"
	}
	key := roleKey(ra.TenantID, ra.PrincipalID, ra.RoleDefinitionID)
	if err := d.recs.Create(ctx, tableRoles, key, mustJSON(ra)); errors.Is(err, ErrExists) {
		var have RoleAssignment
		return have, d.get(ctx, tableRoles, key, &have)
	} else if err != nil {
		return RoleAssignment{}, err
	}
	return ra, nil
}

// RoleAssignments lists a tenant's directory role assignments.
func (d *Directory) RoleAssignments(ctx context.Context, tenantID string) ([]RoleAssignment, error) {
	return list[RoleAssignment](ctx, d, tableRoles, strings.ToLower(tenantID)+"/")
}

// DeleteRoleAssignment removes a role assignment.
func (d *Directory) DeleteRoleAssignment(ctx context.Context, ra RoleAssignment) error {
	return d.recs.Delete(ctx, tableRoles, roleKey(ra.TenantID, ra.PrincipalID, ra.RoleDefinitionID))
}

// RolesOf returns the directory role IDs a principal holds in a tenant,
// directly or through the groups it belongs to (groups given, transitive).
func (d *Directory) RolesOf(ctx context.Context, tenantID, principalID string, groups []string) ([]string, error) {
	all, err := d.RoleAssignments(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range all {
		if strings.EqualFold(r.PrincipalID, principalID) || slices.ContainsFunc(groups, func(g string) bool { return strings.EqualFold(g, r.PrincipalID) }) {
			if !slices.Contains(out, r.RoleDefinitionID) {
				out = append(out, r.RoleDefinitionID)
			}
		}
	}
	return out, nil
}
