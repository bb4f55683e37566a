package identity

import (
	"context"
	"slices"
	"strings"
)

// tableMIFederated holds the federated identity credentials of service
// principals that have no application: managed identities, whose
// credentials are ARM child resources
// (userAssignedIdentities/{name}/federatedIdentityCredentials/{fic}).
// Keys are tenant/clientID/name, so rewriting the principal's record does
// not lose them.
const tableMIFederated = "identity.mifederated"

func miKey(tenantID, clientID, name string) string {
	return tkey(tenantID, clientID) + "/" + strings.ToLower(name)
}

// PutManagedIdentityFederatedCredential creates or replaces (by name) a
// federated identity credential of the managed identity whose client ID
// is clientID; its service principal must exist. The credential is
// checked as an application's is (CheckFederatedCredential), with
// api://AzureADTokenExchange as the default audience.
func (s *Service) PutManagedIdentityFederatedCredential(ctx context.Context, tenantID, clientID string, fic FederatedIdentityCredential) (FederatedIdentityCredential, error) {
	if _, err := s.dir.ServicePrincipal(ctx, tenantID, clientID); err != nil {
		return FederatedIdentityCredential{}, err
	}
	if len(fic.Audiences) == 0 {
		fic.Audiences = []string{DefaultFederatedAudience}
	}
	others, err := s.ManagedIdentityFederatedCredentials(ctx, tenantID, clientID)
	if err != nil {
		return FederatedIdentityCredential{}, err
	}
	others = slices.DeleteFunc(others, func(o FederatedIdentityCredential) bool { return strings.EqualFold(o.Name, fic.Name) })
	if err := CheckFederatedCredential(fic, others); err != nil {
		return FederatedIdentityCredential{}, err
	}
	if fic.ID == "" {
		fic.ID = s.NewID()
	}
	return fic, s.dir.put(ctx, tableMIFederated, miKey(tenantID, clientID, fic.Name), fic)
}

// DeleteManagedIdentityFederatedCredential removes a managed identity's
// federated credential by name.
func (s *Service) DeleteManagedIdentityFederatedCredential(ctx context.Context, tenantID, clientID, name string) error {
	return s.dir.recs.Delete(ctx, tableMIFederated, miKey(tenantID, clientID, name))
}

// ManagedIdentityFederatedCredentials lists a managed identity's
// federated credentials.
func (s *Service) ManagedIdentityFederatedCredentials(ctx context.Context, tenantID, clientID string) ([]FederatedIdentityCredential, error) {
	return list[FederatedIdentityCredential](ctx, s.dir, tableMIFederated, tkey(tenantID, clientID)+"/")
}

// managedIdentityClient stands in an application for a service principal
// without one (a managed identity) that has federated credentials: the
// token endpoint then accepts its external tokens, and nothing else.
func (s *Service) managedIdentityClient(ctx context.Context, tenantID string, sp ServicePrincipal) (Application, bool, error) {
	fics, err := s.ManagedIdentityFederatedCredentials(ctx, tenantID, sp.AppID)
	if err != nil || len(fics) == 0 {
		return Application{}, false, err
	}
	return Application{ObjectID: sp.ID, AppID: sp.AppID, TenantID: sp.TenantID, DisplayName: sp.DisplayName,
		FederatedIdentityCredentials: fics}, true, nil
}
