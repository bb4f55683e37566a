package identity

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CreateTenant creates a tenant with a fresh GUID (unless t.ID is set) and
// its first signing key.
func (s *Service) CreateTenant(ctx context.Context, displayName string, domains ...string) (Tenant, error) {
	t := Tenant{ID: strings.ToLower(s.opts.NewID()), DisplayName: displayName, Domains: domains, Created: s.opts.Now().UTC()}
	if err := s.dir.CreateTenant(ctx, t); err != nil {
		return Tenant{}, err
	}
	if err := s.keys.Ensure(ctx, t.ID); err != nil {
		return Tenant{}, err
	}
	return t, nil
}

// CreateApplication registers an application in a tenant together with
// its service principal, both enabled and without credentials.
func (s *Service) CreateApplication(ctx context.Context, tenantID, displayName string, identifierURIs ...string) (Application, ServicePrincipal, error) {
	if _, err := s.dir.Tenant(ctx, tenantID); err != nil {
		return Application{}, ServicePrincipal{}, fmt.Errorf("identity: tenant %s: %w", tenantID, err)
	}
	app := Application{
		ObjectID:       strings.ToLower(s.opts.NewID()),
		AppID:          strings.ToLower(s.opts.NewID()),
		TenantID:       strings.ToLower(tenantID),
		DisplayName:    displayName,
		IdentifierURIs: identifierURIs,
	}
	sp := ServicePrincipal{
		ID:             strings.ToLower(s.opts.NewID()),
		AppID:          app.AppID,
		TenantID:       app.TenantID,
		DisplayName:    displayName,
		AccountEnabled: true,
	}
	if err := s.dir.PutApplication(ctx, app); err != nil {
		return Application{}, ServicePrincipal{}, err
	}
	if err := s.dir.PutServicePrincipal(ctx, sp); err != nil {
		return Application{}, ServicePrincipal{}, err
	}
	return app, sp, nil
}

// AddClientSecret adds a client secret valid from now for lifetime to an
// application and returns the secret, which is not stored and cannot be
// read again.
func (s *Service) AddClientSecret(ctx context.Context, tenantID, appID, displayName string, lifetime time.Duration) (string, PasswordCredential, error) {
	app, err := s.dir.Application(ctx, tenantID, appID)
	if err != nil {
		return "", PasswordCredential{}, err
	}
	now := s.opts.Now()
	secret, cred, err := NewClientSecret(s.opts.Rand, strings.ToLower(s.opts.NewID()), displayName, now, now.Add(lifetime))
	if err != nil {
		return "", PasswordCredential{}, err
	}
	app.PasswordCredentials = append(app.PasswordCredentials, cred)
	return secret, cred, s.dir.PutApplication(ctx, app)
}

// AddCertificate adds a certificate credential (its public part only) to
// an application, valid for the certificate's own validity window.
func (s *Service) AddCertificate(ctx context.Context, tenantID, appID, displayName string, cert *x509.Certificate) (KeyCredential, error) {
	if cert == nil {
		return KeyCredential{}, errors.New("identity: nil certificate")
	}
	app, err := s.dir.Application(ctx, tenantID, appID)
	if err != nil {
		return KeyCredential{}, err
	}
	cred := NewCertificateCredential(cert, strings.ToLower(s.opts.NewID()), displayName, time.Time{}, time.Time{})
	app.KeyCredentials = append(app.KeyCredentials, cred)
	return cred, s.dir.PutApplication(ctx, app)
}

// CreateGroup creates a group with the given members (object IDs).
func (s *Service) CreateGroup(ctx context.Context, tenantID, displayName string, members ...string) (Group, error) {
	g := Group{ID: strings.ToLower(s.opts.NewID()), TenantID: strings.ToLower(tenantID), DisplayName: displayName, Members: members}
	return g, s.dir.PutGroup(ctx, g)
}

// CreateUser creates an enabled user with an argon2id-hashed password.
func (s *Service) CreateUser(ctx context.Context, tenantID, upn, displayName, password string) (User, error) {
	hash, err := HashPassword(s.opts.Rand, password)
	if err != nil {
		return User{}, err
	}
	u := User{ID: strings.ToLower(s.opts.NewID()), TenantID: strings.ToLower(tenantID), UserPrincipalName: upn,
		DisplayName: displayName, PasswordHash: hash, AccountEnabled: true}
	return u, s.dir.PutUser(ctx, u)
}
