package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azcertificates"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/vault/assertion"
)

func adminCredential(t testing.TB, dir string, opts azcore.ClientOptions) azcore.TokenCredential {
	t.Helper()
	info, err := identity.ReadBootstrap(dir)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := azidentity.NewClientSecretCredential(info.TenantID, info.ClientID, info.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func TestVaultServiceServesTheDefaultVaultInProcessAndOverTLS(t *testing.T) {
	dir := t.TempDir()
	var plane *VaultPlane
	s, _ := startSteward(t, dir, CloudService(), VaultService(VaultOptions{}, func(p *VaultPlane) { plane = p }))
	if plane == nil || plane.Default.Name != DefaultVaultName {
		t.Fatal("vault plane not mounted")
	}
	ctx := context.Background()

	// In process: the vault's Azure-style URL and the SDK's default
	// challenge verification.
	inproc := sdkOptions(s)
	inproc.Transport = s.Transport()
	c, err := azsecrets.NewClient("https://steward.vault.azure.net", adminCredential(t, dir, inproc), &azsecrets.ClientOptions{ClientOptions: inproc})
	if err != nil {
		t.Fatal(err)
	}
	set, err := c.SetSecret(ctx, "in-process", azsecrets.SetSecretParameters{Value: to.Ptr("v1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if set.ID.Name() != "in-process" {
		t.Fatalf("ID = %s", *set.ID)
	}

	// Over TLS on Steward's own host: the path form, with the SDK's opt-out
	// of challenge verification.
	opts := sdkOptions(s)
	pc, err := azsecrets.NewClient(s.BaseURL+"vaults/steward", adminCredential(t, dir, opts),
		&azsecrets.ClientOptions{ClientOptions: opts, DisableChallengeResourceVerification: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := pc.GetSecret(ctx, "in-process", "", nil)
	if err != nil || *got.Value != "v1" {
		t.Fatalf("path form: %v", err)
	}
	if !strings.HasPrefix(string(*got.ID), s.BaseURL+"vaults/steward/secrets/in-process/") {
		t.Fatalf("path-form ID = %s", *got.ID)
	}
}

func TestVaultAsARMResourceGetsVaultURIAndDataPlane(t *testing.T) {
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), VaultService(VaultOptions{}))
	ctx := context.Background()
	opts := sdkOptions(s)
	opts.Transport = s.Transport()
	cred := adminCredential(t, dir, opts)
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: armScope})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, strings.TrimSuffix(s.BaseURL, "/")+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.Transport().RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	if st, out := call("PUT", sub+"/resourceGroups/apps?api-version=2021-04-01", `{"location":"local"}`); st >= 300 {
		t.Fatalf("resource group: %d %v", st, out)
	}
	st, out := call("PUT", sub+"/resourceGroups/apps/providers/Microsoft.KeyVault/vaults/apps-kv?api-version=2023-07-01",
		`{"location":"local","properties":{"tenantId":"`+s.Bootstrap.TenantID+`","sku":{"family":"A","name":"standard"},"enableRbacAuthorization":true}}`)
	if st >= 300 {
		t.Fatalf("vault: %d %v", st, out)
	}
	props, _ := out["properties"].(map[string]any)
	if props["vaultUri"] != "https://apps-kv.vault.azure.net/" {
		t.Fatalf("vaultUri = %v", props["vaultUri"])
	}
	if st, _ := call("PUT", sub+"/resourceGroups/apps/providers/Microsoft.KeyVault/vaults/x?api-version=2023-07-01", `{"location":"local","properties":{}}`); st != http.StatusBadRequest {
		t.Fatalf("invalid vault name: %d", st)
	}
	c, err := azsecrets.NewClient(props["vaultUri"].(string), cred, &azsecrets.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetSecret(ctx, "s", azsecrets.SetSecretParameters{Value: to.Ptr("v")}, nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := call("DELETE", sub+"/resourceGroups/apps/providers/Microsoft.KeyVault/vaults/apps-kv?api-version=2023-07-01", ""); st >= 300 {
		t.Fatalf("delete vault: %d", st)
	}
	_, err = c.GetSecret(ctx, "s", "", nil)
	var re *azcore.ResponseError
	if err == nil || !strings.Contains(err.Error(), "VaultNotFound") {
		t.Fatalf("after vault delete: %v %v", err, re)
	}
}

// TestSeed002Pattern3ThroughSteward runs pattern 3 on a full Steward: the
// administrator creates a non-exportable certificate in the default vault,
// it becomes the credential of an application in another tenant, and that
// application signs in with assertions the vault signs; Steward's own API
// accepts the token.
func TestSeed002Pattern3ThroughSteward(t *testing.T) {
	dir := t.TempDir()
	var plane *VaultPlane
	s, _ := startSteward(t, dir, CloudService(), VaultService(VaultOptions{}, func(p *VaultPlane) { plane = p }))
	ctx := context.Background()
	opts := sdkOptions(s)
	opts.Transport = s.Transport()
	admin := adminCredential(t, dir, opts)
	vaultURL := "https://" + DefaultVaultName + ".vault.azure.net"
	certs, err := azcertificates.NewClient(vaultURL, admin, &azcertificates.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := azkeys.NewClient(vaultURL, admin, &azkeys.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	_, err = certs.CreateCertificate(ctx, "customer-signer", azcertificates.CreateCertificateParameters{CertificatePolicy: &azcertificates.CertificatePolicy{
		IssuerParameters:          &azcertificates.IssuerParameters{Name: to.Ptr("Self")},
		KeyProperties:             &azcertificates.KeyProperties{Exportable: to.Ptr(false), KeyType: to.Ptr(azcertificates.KeyTypeRSA)},
		X509CertificateProperties: &azcertificates.X509CertificateProperties{Subject: to.Ptr("CN=customer-signer")},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	customer, err := s.Identity.CreateTenant(ctx, "customer")
	if err != nil {
		t.Fatal(err)
	}
	app, _, err := s.Identity.CreateApplication(ctx, customer.ID, "collector")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plane.Service.AddCertificateCredential(ctx, s.Identity, plane.Default, "customer-signer", "", customer.ID, app.AppID); err != nil {
		t.Fatal(err)
	}
	cred, err := azidentity.NewClientAssertionCredential(customer.ID, app.AppID, assertion.New(assertion.Config{
		Keys: keys, Certificates: certs, Certificate: "customer-signer",
		AuthorityHost: s.BaseURL, TenantID: customer.ID, ClientID: app.AppID,
	}), &azidentity.ClientAssertionCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: armScope})
	if err != nil {
		t.Fatal(err)
	}
	if who := whoami(t, s, tok.Token); who["tenantId"] != customer.ID || who["appId"] != app.AppID {
		t.Fatalf("whoami = %v", who)
	}
}
