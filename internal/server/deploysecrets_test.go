package server

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// TestDeploymentReadsKeyVaultReferences deploys a template whose secure
// parameter is a Key Vault reference: resolved from Steward's vault when
// the vault allows template deployment, refused when it does not.
func TestDeploymentReadsKeyVaultReferences(t *testing.T) {
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), VaultService(VaultOptions{}))
	ctx := context.Background()
	opts := s.ARMClientOptions()
	cred, err := s.SecretCredential(s.Bootstrap.ClientID, s.Bootstrap.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	sub := s.Bootstrap.SubscriptionID
	armOpts := &arm.ClientOptions{ClientOptions: opts}
	res, err := armresources.NewClient(sub, cred, armOpts)
	if err != nil {
		t.Fatal(err)
	}
	rgs, _ := armresources.NewResourceGroupsClient(sub, cred, armOpts)
	deps, _ := armresources.NewDeploymentsClient(sub, cred, armOpts)
	if _, err := rgs.CreateOrUpdate(ctx, "apps", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	vaultID := "/subscriptions/" + sub + "/resourceGroups/apps/providers/Microsoft.KeyVault/vaults/deploy-kv"
	putVault := func(enabled bool) {
		t.Helper()
		p, err := res.BeginCreateOrUpdateByID(ctx, vaultID, "2023-07-01", armresources.GenericResource{Location: to.Ptr("westeurope"),
			Properties: map[string]any{"tenantId": s.Bootstrap.TenantID, "sku": map[string]any{"family": "A", "name": "standard"},
				"enableRbacAuthorization": true, "enabledForTemplateDeployment": enabled}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.PollUntilDone(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	putVault(true)
	vopts := sdkOptions(s)
	vopts.Transport = s.Transport()
	secrets, err := azsecrets.NewClient("https://deploy-kv.vault.azure.net", adminCredential(t, dir, vopts), &azsecrets.ClientOptions{ClientOptions: vopts})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.SetSecret(ctx, "admin-password", azsecrets.SetSecretParameters{Value: to.Ptr("from-the-vault")}, nil); err != nil {
		t.Fatal(err)
	}
	tmpl := map[string]any{
		"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
		"parameters": map[string]any{"password": map[string]any{"type": "securestring"}},
		"resources": []any{map[string]any{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "nsg",
			"location": "westeurope", "tags": map[string]any{"secretLength": "[string(length(parameters('password')))]"}}},
	}
	params := map[string]any{"password": map[string]any{"reference": map[string]any{"keyVault": map[string]any{"id": vaultID}, "secretName": "admin-password"}}}
	deploy := func(name string) (armresources.DeploymentsClientCreateOrUpdateResponse, error) {
		p, err := deps.BeginCreateOrUpdate(ctx, "apps", name, armresources.Deployment{Properties: &armresources.DeploymentProperties{
			Template: tmpl, Parameters: params, Mode: to.Ptr(armresources.DeploymentModeIncremental)}}, nil)
		if err != nil {
			return armresources.DeploymentsClientCreateOrUpdateResponse{}, err
		}
		return p.PollUntilDone(ctx, nil)
	}
	got, err := deploy("with-secret")
	if err != nil {
		t.Fatal(err)
	}
	nsg, err := res.GetByID(ctx, "/subscriptions/"+sub+"/resourceGroups/apps/providers/Microsoft.Network/networkSecurityGroups/nsg", "2022-07-01", nil)
	if err != nil || *nsg.Tags["secretLength"] != "14" {
		t.Fatalf("the secret did not reach the template: %v %v", nsg.Tags, err)
	}
	if p := got.Properties.Parameters.(map[string]any)["password"].(map[string]any); p["value"] != nil {
		t.Errorf("the secure parameter is in the deployment: %v", p)
	}
	putVault(false)
	if _, err := deploy("vault-closed"); err == nil || !strings.Contains(err.Error(), "enabledForTemplateDeployment") {
		t.Errorf("a vault not enabled for template deployment gave its secret: %v", err)
	}
}
