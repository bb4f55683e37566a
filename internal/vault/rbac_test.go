package vault

import (
	"context"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/steward-gov/steward/internal/rbac"
)

// A role assigned on one secret ({vault}/secrets/{name}) covers that
// secret only, as Key Vault's per-object role assignments do.
func TestRoleOnOneSecretCoversOnlyThatSecret(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	admin := f.secretsClient(f.cred(f.home))
	for _, n := range []string{"shared", "private"} {
		if _, err := admin.SetSecret(ctx, n, azsecrets.SetSecretParameters{Value: to.Ptr(n)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	app, sp, err := f.ids.CreateApplication(ctx, f.home.tenant.ID, "narrow")
	if err != nil {
		t.Fatal(err)
	}
	secret, _, _ := f.ids.AddClientSecret(ctx, f.home.tenant.ID, app.AppID, "t", 3600e9)
	scope := f.vault.ResourceID + "/secrets/shared"
	if err := f.engine.AddRoleAssignment(rbac.RoleAssignment{ID: scope + "/providers/Microsoft.Authorization/roleAssignments/0f0f0f0f-0000-0000-0000-000000000001",
		Name: "0f0f0f0f-0000-0000-0000-000000000001", Scope: scope, RoleDefinitionID: roleSecretsUser, PrincipalID: sp.ID, PrincipalType: "ServicePrincipal"}); err != nil {
		t.Fatal(err)
	}
	c := f.secretsClient(f.cred(tenantApp{tenant: f.home.tenant, app: app, sp: sp, secret: secret}))
	if got, err := c.GetSecret(ctx, "shared", "", nil); err != nil || *got.Value != "shared" {
		t.Fatalf("granted secret: %v", err)
	}
	_, err = c.GetSecret(ctx, "private", "", nil)
	wantResponseError(t, err, http.StatusForbidden, "Forbidden")
	pager := c.NewListSecretPropertiesPager(nil)
	_, err = pager.NextPage(ctx)
	wantResponseError(t, err, http.StatusForbidden, "Forbidden")
}
