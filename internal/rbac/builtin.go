package rbac

import (
	"bytes"
	_ "embed"
	"fmt"
)

// builtinRoleNames are the built-in roles Steward ships, by Azure role name.
// builtin_roles.json holds their definitions exactly as Azure's
// role-definition list publishes them; TestBuiltinRolesMatchCorpus checks
// that and regenerates the file with -update.
var builtinRoleNames = []string{
	"Owner",
	"Contributor",
	"Reader",
	"User Access Administrator",
	"Role Based Access Control Administrator",
	"Resource Policy Contributor",
	"Managed Application Contributor Role",
	"Managed Application Operator Role",
	"Managed Application Publisher Operator",
	"Monitoring Contributor",
	"Monitoring Reader",
	"Monitoring Metrics Publisher",
	"Log Analytics Contributor",
	"Log Analytics Reader",
	"Key Vault Administrator",
	"Key Vault Certificates Officer",
	"Key Vault Certificate User",
	"Key Vault Contributor",
	"Key Vault Crypto Officer",
	"Key Vault Crypto Service Encryption User",
	"Key Vault Crypto Service Release User",
	"Key Vault Crypto User",
	"Key Vault Data Access Administrator",
	"Key Vault Purge Operator",
	"Key Vault Reader",
	"Key Vault Secrets Officer",
	"Key Vault Secrets User",
	"Storage Blob Data Owner",
	"Storage Blob Data Contributor",
	"Storage Blob Data Reader",
	"Storage Blob Delegator",
	"Storage Table Data Contributor",
	"Storage Table Data Reader",
	// Roles the delegation examples in Microsoft's documentation constrain to.
	"Backup Contributor",
	"Backup Reader",
	"AcrPull",
	"Virtual Machine Administrator Login",
	"Virtual Machine User Login",
}

//go:embed builtin_roles.json
var builtinRolesJSON []byte

// Well-known built-in role GUIDs.
const (
	OwnerRoleID                   = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	ContributorRoleID             = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	ReaderRoleID                  = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	UserAccessAdministratorRoleID = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
	RBACAdministratorRoleID       = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
)

// BuiltInCatalog returns a new catalog holding the built-in roles Steward
// ships. Each call returns a fresh catalog that the caller may add to.
func BuiltInCatalog() (*Catalog, error) {
	c := NewCatalog()
	if _, err := c.Import(bytes.NewReader(builtinRolesJSON)); err != nil {
		return nil, fmt.Errorf("embedded built-in roles: %w", err)
	}
	return c, nil
}
