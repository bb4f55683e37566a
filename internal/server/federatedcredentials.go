package server

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/store"
)

// TypeFederatedIdentityCredential is the ARM type of a user-assigned
// identity's federated identity credentials.
const TypeFederatedIdentityCredential = TypeUserAssignedIdentity + "/federatedIdentityCredentials"

// ficName is the name pattern of the ManagedIdentity spec
// (federatedIdentityCredentialResourceName): 3 to 120 characters, letters,
// digits, '-' and '_', starting with a letter or digit.
var ficName = regexp.MustCompile(`^[a-zA-Z0-9][-_a-zA-Z0-9]{2,119}$`)

// federatedCredentials keeps the token service's federated credentials of
// managed identities in step with the ARM child resources
// userAssignedIdentities/{name}/federatedIdentityCredentials/{fic}: a
// workload presenting a token of the trusted issuer then gets tokens as
// the identity (client_assertion with client_id = the identity's clientId).
type federatedCredentials struct {
	c      *cloud.Cloud
	svc    *identity.Service
	tenant string
}

// registerFederatedCredentials adds the hooks of federated identity
// credentials.
func (s *Steward) registerFederatedCredentials(c *cloud.Cloud) {
	f := &federatedCredentials{c: c, svc: s.Identity, tenant: s.Bootstrap.TenantID}
	c.OnPut(TypeFederatedIdentityCredential, f.put)
	c.OnDelete(TypeFederatedIdentityCredential, f.delete)
	c.OnDelete(TypeUserAssignedIdentity, f.deleteAll)
}

// put checks a credential as the Managed Identity provider does (issuer,
// subject and one audience required; at most 20 per identity; issuer and
// subject unique), stores it with the token service and keeps only the
// three properties in the document.
func (f *federatedCredentials) put(ctx context.Context, id string, doc, _ map[string]any) error {
	parent, name := splitChild(id)
	if !ficName.MatchString(name) {
		return arm.BadRequest("BadRequest",
			"The federated identity credential name '%s' is invalid: it must be 3 to 120 letters, digits, '-' or '_', starting with a letter or digit.", clip(name))
	}
	props, _ := doc["properties"].(map[string]any)
	issuer, _ := props["issuer"].(string)
	subject, _ := props["subject"].(string)
	var audiences []string
	rawAud, _ := props["audiences"].([]any)
	for _, a := range rawAud {
		s, ok := a.(string)
		if !ok {
			audiences = nil
			break
		}
		audiences = append(audiences, s)
	}
	if issuer == "" || subject == "" || len(audiences) == 0 {
		return arm.BadRequest("BadRequest",
			"The request format was unexpected. Federated Identity Credential must specify 'issuer', 'subject' and 'audience'.")
	}
	clientID, err := f.clientIDOf(ctx, parent)
	if err != nil {
		return err
	}
	existing, err := f.svc.ManagedIdentityFederatedCredentials(ctx, f.tenant, clientID)
	if err != nil {
		return err
	}
	for _, o := range existing {
		if !strings.EqualFold(o.Name, name) && o.Issuer == issuer && o.Subject == subject {
			return arm.BadRequest("BadRequest", "Issuer and subject combination already exists for this Managed Identity.")
		}
	}
	var others []identity.FederatedIdentityCredential
	for _, o := range existing {
		if !strings.EqualFold(o.Name, name) {
			others = append(others, o)
		}
	}
	if len(others) >= identity.MaxFederatedCredentials {
		return arm.BadRequest("BadRequest",
			"The managed identity '%s' already has %d federated identity credentials, the most it may have.", clip(parent), identity.MaxFederatedCredentials)
	}
	fic := identity.FederatedIdentityCredential{Name: name, Issuer: issuer, Subject: subject, Audiences: audiences}
	if err := identity.CheckFederatedCredential(fic, others); err != nil {
		return arm.BadRequest("BadRequest", "The federated identity credential is invalid: %s.", err.Error())
	}
	if _, err := f.svc.PutManagedIdentityFederatedCredential(ctx, f.tenant, clientID, fic); err != nil {
		return err
	}
	doc["properties"] = map[string]any{"issuer": issuer, "subject": subject, "audiences": audiences}
	delete(doc, "location")
	return nil
}

func (f *federatedCredentials) delete(ctx context.Context, id string, _ map[string]any) {
	parent, name := splitChild(id)
	clientID, err := f.clientIDOf(ctx, parent)
	if err != nil {
		return
	}
	_ = f.svc.DeleteManagedIdentityFederatedCredential(ctx, f.tenant, clientID, name)
}

// deleteAll removes the token service's credentials of a deleted
// identity (its child resources go with it).
func (f *federatedCredentials) deleteAll(ctx context.Context, _ string, doc map[string]any) {
	props, _ := doc["properties"].(map[string]any)
	clientID, _ := props["clientId"].(string)
	if clientID == "" {
		return
	}
	fics, err := f.svc.ManagedIdentityFederatedCredentials(ctx, f.tenant, clientID)
	if err != nil {
		return
	}
	for _, fic := range fics {
		_ = f.svc.DeleteManagedIdentityFederatedCredential(ctx, f.tenant, clientID, fic.Name)
	}
}

// clientIDOf is the clientId of the user-assigned identity parent.
func (f *federatedCredentials) clientIDOf(ctx context.Context, parent string) (string, error) {
	r, err := f.c.Get(ctx, parent)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !strings.EqualFold(r.Type, TypeUserAssignedIdentity)) {
		return "", arm.NotFound("ParentResourceNotFound", "The parent resource '%s' was not found.", clip(parent))
	} else if err != nil {
		return "", err
	}
	props, _ := r.Doc["properties"].(map[string]any)
	clientID, _ := props["clientId"].(string)
	if clientID == "" {
		return "", arm.NotFound("ParentResourceNotFound", "The parent resource '%s' has no client ID.", clip(parent))
	}
	return clientID, nil
}

// splitChild splits {parent}/federatedIdentityCredentials/{name}.
func splitChild(id string) (parent, name string) {
	i := strings.LastIndex(id, "/")
	name = id[i+1:]
	parent = id[:i]
	parent = parent[:strings.LastIndex(parent, "/")]
	return parent, name
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}
