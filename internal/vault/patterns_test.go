package vault

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/vault/assertion"
)

// patternsFixture holds seed 002's setting: an enterprise tenant (home)
// whose vault keeps the certificates, and a customer tenant whose
// application authenticates with them and whose own vault accepts the
// resulting tokens.
type patternsFixture struct {
	*kvFixture
	customer      tenantApp
	customerVault Vault
}

func newPatternsFixture(t *testing.T) *patternsFixture {
	f := &patternsFixture{kvFixture: newKVFixture(t)}
	f.customer = f.newTenantApp("customer")
	f.customerVault = f.newVault("customervault", f.customer.tenant.ID)
	f.grant(f.customerVault, f.customer.sp.ID, roleKVAdministrator)
	ctx := context.Background()
	// The customer's vault holds the resource the workload is after.
	cv := f.secretsClientFor("https://customervault.vault.azure.net", f.cred(f.customer))
	if _, err := cv.SetSecret(ctx, "eventhub-connection", azsecrets.SetSecretParameters{Value: to.Ptr("Endpoint=sb://customer/")}, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *kvFixture) secretsClientFor(url string, cred azcore.TokenCredential) *azsecrets.Client {
	c, err := azsecrets.NewClient(url, cred, &azsecrets.ClientOptions{ClientOptions: f.opts})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// acceptedBySteward checks that cred's token is a valid Steward token for
// the customer's application and that the customer's vault accepts it.
func (f *patternsFixture) acceptedBySteward(t *testing.T, cred azcore.TokenCredential) {
	t.Helper()
	ctx := context.Background()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{DefaultResource + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	v := &identity.Validator{Keys: f.ids.Keys(), Audiences: []string{DefaultResource},
		Issuer: func(tid string) string { return identity.IssuerFor(f.authority, tid) }}
	p, err := v.Validate(ctx, tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	if p.TenantID != f.customer.tenant.ID || p.AppID != f.customer.app.AppID {
		t.Fatalf("token for tenant %s app %s, want the customer's", p.TenantID, p.AppID)
	}
	got, err := f.secretsClientFor("https://customervault.vault.azure.net", cred).GetSecret(ctx, "eventhub-connection", "", nil)
	if err != nil || *got.Value != "Endpoint=sb://customer/" {
		t.Fatalf("customer vault: %v", err)
	}
}

// Pattern 1: a client outside Steward authenticates with a certificate
// and private key file.
func TestSeed002Pattern1CertificateFile(t *testing.T) {
	f := newPatternsFixture(t)
	ctx := context.Background()
	home := f.cred(f.home)
	f.createSelfSigned(f.certsClient(home), "onprem-cicd", "application/x-pem-file", true)
	if _, err := f.svc.AddCertificateCredential(ctx, f.ids, f.vault, "onprem-cicd", "", f.customer.tenant.ID, f.customer.app.AppID); err != nil {
		t.Fatal(err)
	}
	sec, err := f.secretsClient(home).GetSecret(ctx, "onprem-cicd", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cicd.pem")
	if err := os.WriteFile(file, []byte(*sec.Value), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	certs, key, err := azidentity.ParseCertificates(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := azidentity.NewClientCertificateCredential(f.customer.tenant.ID, f.customer.app.AppID, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: f.opts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	f.acceptedBySteward(t, cred)
}

// Pattern 2: a workload in the enterprise tenant reads the certificate with
// its private key from the vault and gets a token for a principal in the
// customer's tenant.
func TestSeed002Pattern2CertificateFromVaultAcrossTenants(t *testing.T) {
	f := newPatternsFixture(t)
	ctx := context.Background()
	home := f.cred(f.home)
	cert := f.createSelfSigned(f.certsClient(home), "customer-cred", "application/x-pkcs12", true)
	if _, err := f.svc.AddCertificateCredential(ctx, f.ids, f.vault, "customer-cred", cert.ID.Version(), f.customer.tenant.ID, f.customer.app.AppID); err != nil {
		t.Fatal(err)
	}
	// The workload's own identity (a managed identity in Azure) may only
	// read secrets.
	wl, wlSP, err := f.ids.CreateApplication(ctx, f.home.tenant.ID, "workload")
	if err != nil {
		t.Fatal(err)
	}
	wlSecret, _, _ := f.ids.AddClientSecret(ctx, f.home.tenant.ID, wl.AppID, "t", 3600e9)
	f.grant(f.vault, wlSP.ID, roleSecretsUser)
	workload := f.cred(tenantApp{tenant: f.home.tenant, app: wl, sp: wlSP, secret: wlSecret})

	sec, err := f.secretsClient(workload).GetSecret(ctx, cert.SID.Name(), cert.SID.Version(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pfx, err := base64.StdEncoding.DecodeString(*sec.Value)
	if err != nil {
		t.Fatal(err)
	}
	certs, key, err := azidentity.ParseCertificates(pfx, nil)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := azidentity.NewClientCertificateCredential(f.customer.tenant.ID, f.customer.app.AppID, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: f.opts, DisableInstanceDiscovery: true, SendCertificateChain: true})
	if err != nil {
		t.Fatal(err)
	}
	f.acceptedBySteward(t, cred)
}

// Pattern 3: the private key never leaves the vault; the client assertion
// is signed by the vault's sign operation.
func TestSeed002Pattern3AssertionSignedByVault(t *testing.T) {
	f := newPatternsFixture(t)
	ctx := context.Background()
	home := f.cred(f.home)
	f.createSelfSigned(f.certsClient(home), "signer", "application/x-pem-file", false)
	if _, err := f.svc.AddCertificateCredential(ctx, f.ids, f.vault, "signer", "", f.customer.tenant.ID, f.customer.app.AppID); err != nil {
		t.Fatal(err)
	}
	sec, err := f.secretsClient(home).GetSecret(ctx, "signer", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(*sec.Value, "PRIVATE KEY") {
		t.Fatal("the secret of a non-exportable certificate carries its private key")
	}
	// The signing identity may read certificates and sign (Certificate
	// User + Crypto User), but not read secrets.
	app, sp, err := f.ids.CreateApplication(ctx, f.home.tenant.ID, "signer")
	if err != nil {
		t.Fatal(err)
	}
	appSecret, _, _ := f.ids.AddClientSecret(ctx, f.home.tenant.ID, app.AppID, "t", 3600e9)
	f.grant(f.vault, sp.ID, roleCertificateUser)
	f.grant(f.vault, sp.ID, roleCryptoUser)
	signer := f.cred(tenantApp{tenant: f.home.tenant, app: app, sp: sp, secret: appSecret})
	_, err = f.secretsClient(signer).SetSecret(ctx, "x", azsecrets.SetSecretParameters{Value: to.Ptr("x")}, nil)
	wantResponseError(t, err, 403, "Forbidden")
	getAssertion := assertion.New(assertion.Config{
		Keys: f.keysClient(signer), Certificates: f.certsClient(signer), Certificate: "signer",
		AuthorityHost: f.authority, TenantID: f.customer.tenant.ID, ClientID: f.customer.app.AppID,
	})
	cred, err := azidentity.NewClientAssertionCredential(f.customer.tenant.ID, f.customer.app.AppID, getAssertion,
		&azidentity.ClientAssertionCredentialOptions{ClientOptions: f.opts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	f.acceptedBySteward(t, cred)
}
