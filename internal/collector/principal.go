package collector

import (
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azcertificates"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"

	"github.com/steward-gov/steward/internal/vault/assertion"
)

// VaultCertificate names a certificate credential whose private key lives
// in a Key Vault and signs there: the collector never holds the key, only
// the right to sign with it.
type VaultCertificate struct {
	// TenantID and ClientID are the application's (the publisher's
	// principal in a tenant).
	TenantID, ClientID string
	// Keys signs and Certificates reads the certificate, in its vault.
	Keys         *azkeys.Client
	Certificates *azcertificates.Client
	// Certificate is the vault certificate's name.
	Certificate string
	// AuthorityHost is the token service ("https://login.microsoftonline.com/"
	// or Steward's base URL).
	AuthorityHost string
}

// CertificatePrincipal is the Principal of a vault certificate credential:
// each token request carries a client assertion the vault signed
// (azkeys Sign), so the key is never exported.
func CertificatePrincipal(c VaultCertificate, opts azcore.ClientOptions) (Principal, error) {
	cred, err := azidentity.NewClientAssertionCredential(c.TenantID, c.ClientID, assertion.New(assertion.Config{
		Keys: c.Keys, Certificates: c.Certificates, Certificate: c.Certificate,
		AuthorityHost: c.AuthorityHost, TenantID: c.TenantID, ClientID: c.ClientID,
	}), &azidentity.ClientAssertionCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		return Principal{}, err
	}
	return Principal{Name: c.TenantID + "/" + c.ClientID, Credential: cred}, nil
}
