package vault

import (
	"context"
	"crypto/x509"

	"github.com/steward-gov/steward/internal/identity"
)

// CredentialAdder registers a certificate credential on an application
// (identity.Service does).
type CredentialAdder interface {
	AddCertificate(ctx context.Context, tenantID, appID, displayName string, cert *x509.Certificate) (identity.KeyCredential, error)
}

// AddCertificateCredential makes a vault certificate (its public part) a
// certificate credential of an application, so the service principal can
// authenticate with the certificate's key: from a file after export
// (seed 002 pattern 1), after reading it from the vault (pattern 2), or
// without the key ever leaving the vault, by signing the client assertion
// with the vault's sign operation (pattern 3).
func (s *Service) AddCertificateCredential(ctx context.Context, ids CredentialAdder, v Vault, certName, certVersion, tenantID, appID string) (identity.KeyCredential, error) {
	cert, err := s.Certificate(ctx, v, certName, certVersion)
	if err != nil {
		return identity.KeyCredential{}, err
	}
	return ids.AddCertificate(ctx, tenantID, appID, "vault:"+v.Name+"/"+certName, cert)
}
