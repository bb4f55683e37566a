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

// errBadCredentials is returned by AuthenticateUser for an unknown user, a
// wrong password or a disabled account alike, so callers cannot tell which.
var errBadCredentials = errors.New("identity: invalid user name or password")

// ErrBadCredentials reports whether err is AuthenticateUser's refusal.
func ErrBadCredentials(err error) bool { return errors.Is(err, errBadCredentials) }

// dummyHash is checked against when the user does not exist, so that an
// unknown name costs the same argon2id work as a wrong password.
const dummyHash = "$argon2id$v=19$m=65536,t=3,p=4$c3Rld2FyZC1kdW1teQ$Wl4mJ6b2c4mQ3eJ0m0m8i8x8o1c0V3o0n9m7k5j3h1g"

// AuthenticateUser checks a user's password and returns the user.
func (s *Service) AuthenticateUser(ctx context.Context, tenantID, upn, password string) (User, error) {
	u, err := s.dir.UserBySignInName(ctx, tenantID, upn)
	if errors.Is(err, ErrNotFound) {
		_, _ = CheckPassword(dummyHash, password)
		return User{}, errBadCredentials
	} else if err != nil {
		return User{}, err
	}
	ok, err := CheckPassword(u.PasswordHash, password)
	if err != nil {
		return User{}, err
	}
	if !ok || !u.AccountEnabled {
		return User{}, errBadCredentials
	}
	return u, nil
}
