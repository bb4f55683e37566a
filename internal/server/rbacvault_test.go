package server

import (
	"context"
	"strings"
	"testing"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/reports"
)

// TestRoleAssignmentAtVaultScopeIsListedForTheSubscription creates a role
// assignment at a Key Vault's scope through the SDK, in a Steward serving
// only the cloud and the vaults: ListForSubscription includes it, as Azure
// includes assignments at resource scope, and the subscription's role
// definitions (built-in) are listed.
func TestRoleAssignmentAtVaultScopeIsListedForTheSubscription(t *testing.T) {
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), VaultService(VaultOptions{}))
	ctx := context.Background()
	cred, err := s.SecretCredential(s.Bootstrap.ClientID, s.Bootstrap.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	sub := s.Bootstrap.SubscriptionID
	armOpts := &azarm.ClientOptions{ClientOptions: s.ARMClientOptions()}
	src := reports.Source{Credential: cred, Options: armOpts, Subscription: sub}
	roles, err := reports.ListRoleDefinitions(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	var secretsUser string
	for _, r := range roles {
		if r.Name == "Key Vault Secrets User" {
			secretsUser = r.ID
		}
	}
	if secretsUser == "" {
		t.Fatalf("ListRoleDefinitions: %d roles, no Key Vault Secrets User", len(roles))
	}
	res, err := armresources.NewClient(sub, cred, armOpts)
	if err != nil {
		t.Fatal(err)
	}
	rgs, _ := armresources.NewResourceGroupsClient(sub, cred, armOpts)
	if _, err := rgs.CreateOrUpdate(ctx, "apps", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	vaultID := "/subscriptions/" + sub + "/resourceGroups/apps/providers/Microsoft.KeyVault/vaults/rbac-kv"
	p, err := res.BeginCreateOrUpdateByID(ctx, vaultID, "2023-07-01",
		armresources.GenericResource{Location: to.Ptr("westeurope"), Properties: map[string]any{"tenantId": s.Bootstrap.TenantID,
			"sku": map[string]any{"family": "A", "name": "standard"}, "enableRbacAuthorization": true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}
	ras, err := armauthorization.NewRoleAssignmentsClient(sub, cred, armOpts)
	if err != nil {
		t.Fatal(err)
	}
	principal := uuid.NewString()
	created, err := ras.Create(ctx, vaultID, uuid.NewString(), armauthorization.RoleAssignmentCreateParameters{
		Properties: &armauthorization.RoleAssignmentProperties{PrincipalID: to.Ptr(principal), RoleDefinitionID: to.Ptr(secretsUser),
			PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for pg := ras.NewListForSubscriptionPager(nil); pg.More(); {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Value {
			listed = append(listed, *a.ID)
			if strings.EqualFold(*a.ID, *created.ID) && !strings.EqualFold(*a.Properties.Scope, vaultID) {
				t.Errorf("listed with scope %s, want %s", *a.Properties.Scope, vaultID)
			}
		}
	}
	found := false
	for _, id := range listed {
		found = found || strings.EqualFold(id, *created.ID)
	}
	if !found {
		t.Fatalf("ListForSubscription lacks the vault-scope assignment %s: %v", *created.ID, listed)
	}
}
