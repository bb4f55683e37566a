package identity

import "time"

// Kinds of client credential a CredentialUse names.
const (
	// CredentialPassword is a client secret (passwordCredentials).
	CredentialPassword = "password"
	// CredentialCertificate is a certificate (keyCredentials) that signed
	// a client assertion.
	CredentialCertificate = "certificate"
	// CredentialFederated is a federated identity credential whose
	// external token was exchanged.
	CredentialFederated = "federated"
)

// CredentialUse says which credential of an application authenticated a
// token request: what Entra's sign-in logs and credential sign-in activity
// report as the credential's key ID.
type CredentialUse struct {
	TenantID string
	// AppID is the application (client) ID; AppObjectID the application
	// object's ID, which Microsoft Graph's /applications/{id} names.
	AppID, AppObjectID string
	// Kind is CredentialPassword, CredentialCertificate or
	// CredentialFederated.
	Kind string
	// KeyID is the credential's keyId (the federated credential's id).
	KeyID string
	Time  time.Time
}

// noteCredentialUse tells Options.CredentialUsed which credential
// authenticated. The hook throttles and stores off the request path.
func (s *Service) noteCredentialUse(tenantID string, app Application, kind, keyID string, now time.Time) {
	if s.opts.CredentialUsed == nil || keyID == "" {
		return
	}
	s.opts.CredentialUsed(CredentialUse{TenantID: tenantID, AppID: app.AppID, AppObjectID: app.ObjectID,
		Kind: kind, KeyID: keyID, Time: now.UTC()})
}
