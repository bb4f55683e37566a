package graph

import (
	"slices"
	"strings"

	"github.com/steward-gov/steward/internal/identity"
)

// Authorization follows Entra's built-in directory roles, deny by default
// (docs/decisions/graph.md):
//
//   - Global Administrator may do everything;
//   - Application Administrator manages applications, service principals,
//     their credentials, consent and app role assignments;
//   - Groups Administrator manages groups, their members and owners;
//   - User Administrator manages users and groups, but not users who hold
//     a directory role;
//   - owners of an application, service principal or group manage it;
//   - reading the directory takes any of these roles, Directory Readers or
//     Global Reader; reading sign-in reports takes Reports Reader or Global
//     Reader;
//     any caller may read itself and the objects it owns.

// has reports whether the caller holds one of roles (Global
// Administrator holds them all).
func (c *call) has(roles ...string) bool {
	for _, r := range c.roles {
		if strings.EqualFold(r, identity.RoleGlobalAdministrator) {
			return true
		}
		if slices.ContainsFunc(roles, func(x string) bool { return strings.EqualFold(x, r) }) {
			return true
		}
	}
	return false
}

// reader reports whether the caller may read the whole directory.
func (c *call) reader() bool {
	return c.has(identity.RoleApplicationAdministrator, identity.RoleGroupsAdministrator,
		identity.RoleUserAdministrator, identity.RoleDirectoryReaders, identity.RoleGlobalReader)
}

// owns reports whether the caller is among owners.
func (c *call) owns(owners []string) bool {
	return slices.ContainsFunc(owners, func(o string) bool { return strings.EqualFold(o, c.p.ObjectID) })
}

// is reports whether id is the caller itself.
func (c *call) is(id string) bool { return strings.EqualFold(id, c.p.ObjectID) }

// allow turns a decision into Authorization_RequestDenied.
func allow(ok bool) error {
	if !ok {
		return denied()
	}
	return nil
}

// appAdmin, groupAdmin and userAdmin are the roles that manage each kind
// of object.
func (c *call) appAdmin() bool { return c.has(identity.RoleApplicationAdministrator) }
func (c *call) groupAdmin() bool {
	return c.has(identity.RoleGroupsAdministrator, identity.RoleUserAdministrator)
}
func (c *call) userAdmin() bool { return c.has(identity.RoleUserAdministrator) }

// privileged reports whether objectID holds a directory role other than
// Directory Readers, directly or through the groups it belongs to. Only a
// Global Administrator may change such an object's credentials, owners or
// (for a group) members: otherwise an Application Administrator could add
// a secret to a Global Administrator's application, or a Groups
// Administrator join a group that holds a role, and take its rights.
func (c *call) privileged(objectID string) (bool, error) {
	if objectID == "" {
		return false, nil
	}
	groups, err := c.h.dir.TransitiveGroups(c.ctx, c.tenant, objectID)
	if err != nil {
		return false, err
	}
	roles, err := c.h.dir.RolesOf(c.ctx, c.tenant, objectID, groups)
	if err != nil {
		return false, err
	}
	for _, r := range roles {
		if !strings.EqualFold(r, identity.RoleDirectoryReaders) {
			return true, nil
		}
	}
	return false, nil
}

// guard withdraws write access to a privileged object from anyone but a
// Global Administrator.
func (c *call) guard(canWrite bool, objectID string) (bool, error) {
	if !canWrite || c.has() {
		return canWrite, nil
	}
	p, err := c.privileged(objectID)
	return canWrite && !p, err
}
