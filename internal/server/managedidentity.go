package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/atomicfile"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/store"
)

// TypeUserAssignedIdentity is the ARM type of user-assigned managed
// identities.
const TypeUserAssignedIdentity = "Microsoft.ManagedIdentity/userAssignedIdentities"

// systemAppIDSpace derives the client ID (appId) of a system-assigned
// identity's service principal from its principal ID, so it needs no
// storage of its own.
var systemAppIDSpace = uuid.MustParse("4f0c6a0e-7d55-4b8e-9a37-6b7f3b1c2d10")

// managedIdentities keeps the directory in step with the ARM resources
// that are or carry managed identities.
type managedIdentities struct {
	c      *cloud.Cloud
	dir    *identity.Directory
	tenant string
}

// registerManagedIdentities adds the hooks that give user-assigned
// identities and the resources with an identity block their service
// principals.
func (s *Steward) registerManagedIdentities(c *cloud.Cloud) *managedIdentities {
	m := &managedIdentities{c: c, dir: s.Identity.Directory(), tenant: s.Bootstrap.TenantID}
	c.OnPut(TypeUserAssignedIdentity, m.putUserAssigned)
	c.OnDelete(TypeUserAssignedIdentity, m.deleteUserAssigned)
	c.OnPut(cloud.AnyType, m.putIdentityBlock)
	c.OnDelete(cloud.AnyType, m.deleteIdentityBlock)
	return m
}

// putUserAssigned fills properties.principalId, clientId and tenantId
// (read-only: kept from the stored document on update, whatever the
// request says) and makes sure the identity's service principal exists
// and is enabled.
func (m *managedIdentities) putUserAssigned(ctx context.Context, id string, doc, existing map[string]any) error {
	props, _ := doc["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		doc["properties"] = props
	}
	old, _ := existing["properties"].(map[string]any)
	principalID, _ := old["principalId"].(string)
	clientID, _ := old["clientId"].(string)
	if principalID == "" || clientID == "" {
		principalID, clientID = uuid.NewString(), uuid.NewString()
	}
	props["principalId"], props["clientId"], props["tenantId"] = principalID, clientID, m.tenant
	name := id[strings.LastIndex(id, "/")+1:]
	return m.dir.PutServicePrincipal(ctx, identity.ServicePrincipal{ID: principalID, AppID: clientID, TenantID: m.tenant,
		DisplayName: name, AccountEnabled: true})
}

func (m *managedIdentities) deleteUserAssigned(ctx context.Context, id string, doc map[string]any) {
	props, _ := doc["properties"].(map[string]any)
	principalID, _ := props["principalId"].(string)
	clientID, _ := props["clientId"].(string)
	m.disable(ctx, principalID, clientID, id)
}

// identityTypes are the values of identity.type Azure accepts.
var identityTypes = map[string]struct{ system, user bool }{
	"none": {}, "systemassigned": {system: true}, "userassigned": {user: true},
	"systemassigned, userassigned": {system: true, user: true}, "systemassigned,userassigned": {system: true, user: true},
}

// putIdentityBlock completes a resource's "identity": a system-assigned
// identity gets its principalId and tenantId (kept across updates) and a
// service principal; each user-assigned identity named must exist and
// gets its principalId and clientId.
func (m *managedIdentities) putIdentityBlock(ctx context.Context, id string, doc, existing map[string]any) error {
	typ, _ := doc["type"].(string)
	if strings.EqualFold(typ, TypeUserAssignedIdentity) || strings.HasPrefix(strings.ToLower(typ), "microsoft.resources/") {
		return nil
	}
	raw, ok := doc["identity"]
	if !ok || raw == nil {
		return nil
	}
	block, ok := raw.(map[string]any)
	if !ok {
		return arm.BadRequest("InvalidIdentity", "The identity of '%s' must be an object with a type.", id)
	}
	t, _ := block["type"].(string)
	kind, known := identityTypes[strings.ToLower(strings.TrimSpace(t))]
	if !known {
		return arm.BadRequest("InvalidIdentityType", "The identity type '%s' is not supported; use None, SystemAssigned, UserAssigned or 'SystemAssigned, UserAssigned'.", t)
	}
	delete(block, "principalId")
	delete(block, "tenantId")
	if kind.system {
		oldBlock, _ := existing["identity"].(map[string]any)
		principalID, _ := oldBlock["principalId"].(string)
		if principalID == "" {
			principalID = uuid.NewString()
		}
		block["principalId"], block["tenantId"] = principalID, m.tenant
		name := id[strings.LastIndex(id, "/")+1:]
		if err := m.dir.PutServicePrincipal(ctx, identity.ServicePrincipal{ID: principalID, AppID: systemClientID(principalID),
			TenantID: m.tenant, DisplayName: name, AccountEnabled: true}); err != nil {
			return err
		}
	}
	uai, _ := block["userAssignedIdentities"].(map[string]any)
	if !kind.user {
		if len(uai) > 0 {
			return arm.BadRequest("InvalidIdentity", "userAssignedIdentities can only be given with the identity type UserAssigned.")
		}
		delete(block, "userAssignedIdentities")
		return nil
	}
	if len(uai) == 0 {
		return arm.BadRequest("InvalidIdentity", "The identity type UserAssigned needs at least one entry in userAssignedIdentities.")
	}
	for uid := range uai {
		r, err := m.c.Get(ctx, uid)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !strings.EqualFold(r.Type, TypeUserAssignedIdentity)) {
			return arm.BadRequest("InvalidIdentity", "The user-assigned identity '%s' was not found.", uid)
		} else if err != nil {
			return err
		}
		props, _ := r.Doc["properties"].(map[string]any)
		uai[uid] = map[string]any{"principalId": props["principalId"], "clientId": props["clientId"]}
	}
	return nil
}

func (m *managedIdentities) deleteIdentityBlock(ctx context.Context, id string, doc map[string]any) {
	block, _ := doc["identity"].(map[string]any)
	if principalID, _ := block["principalId"].(string); principalID != "" {
		m.disable(ctx, principalID, systemClientID(principalID), id)
	}
}

// disable turns off the service principal of a deleted identity, so its
// tokens can no longer be issued (role assignments naming it stay, as in
// Azure, until deleted).
func (m *managedIdentities) disable(ctx context.Context, principalID, clientID, id string) {
	if principalID == "" || clientID == "" {
		return
	}
	_ = m.dir.PutServicePrincipal(ctx, identity.ServicePrincipal{ID: principalID, AppID: clientID, TenantID: m.tenant,
		DisplayName: id[strings.LastIndex(id, "/")+1:], AccountEnabled: false})
}

func systemClientID(principalID string) string {
	return uuid.NewSHA1(systemAppIDSpace, []byte(strings.ToLower(principalID))).String()
}

// managedIdentity is one identity a binding may use.
type managedIdentity struct {
	principalID, clientID, resourceID string
	system                            bool
}

// identitiesOf resolves a binding's subject: a user-assigned identity's
// name or resource ID, or the resource ID of a resource with an identity
// block (its system-assigned identity and its user-assigned ones).
func (m *managedIdentities) identitiesOf(ctx context.Context, subject string) ([]managedIdentity, error) {
	var r cloud.Resource
	if strings.HasPrefix(subject, "/") {
		var err error
		if r, err = m.c.Get(ctx, subject); errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("the resource %s bound to this environment does not exist", subject)
		} else if err != nil {
			return nil, err
		}
	} else {
		var found []cloud.Resource
		after := ""
		for {
			page, next, err := m.c.List(ctx, cloud.ListQuery{Type: TypeUserAssignedIdentity, After: after,
				Keep: func(r cloud.Resource) bool { return strings.EqualFold(r.ID[strings.LastIndex(r.ID, "/")+1:], subject) }})
			if err != nil {
				return nil, err
			}
			found = append(found, page...)
			if next == "" {
				break
			}
			after = next
		}
		switch len(found) {
		case 0:
			return nil, fmt.Errorf("no user-assigned identity is named %s", subject)
		case 1:
			r = found[0]
		default:
			return nil, fmt.Errorf("%d user-assigned identities are named %s: bind one by its resource ID", len(found), subject)
		}
	}
	if strings.EqualFold(r.Type, TypeUserAssignedIdentity) {
		props, _ := r.Doc["properties"].(map[string]any)
		p, _ := props["principalId"].(string)
		c, _ := props["clientId"].(string)
		return []managedIdentity{{principalID: p, clientID: c, resourceID: r.ID}}, nil
	}
	block, _ := r.Doc["identity"].(map[string]any)
	var out []managedIdentity
	if p, _ := block["principalId"].(string); p != "" {
		out = append(out, managedIdentity{principalID: p, clientID: systemClientID(p), resourceID: r.ID, system: true})
	}
	uai, _ := block["userAssignedIdentities"].(map[string]any)
	for uid, v := range uai {
		e, _ := v.(map[string]any)
		p, _ := e["principalId"].(string)
		c, _ := e["clientId"].(string)
		out = append(out, managedIdentity{principalID: p, clientID: c, resourceID: uid})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the resource %s has no managed identity", r.ID)
	}
	return out, nil
}

// bindingKeyFile holds the key that signs managed-identity bindings.
const bindingKeyFile = "identity-binding.key"

// EnsureBindingKey returns the data directory's managed-identity binding
// key, creating it (32 random bytes, 0600) on first use.
func EnsureBindingKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, bindingKeyFile)
	b, err := os.ReadFile(path)
	if err == nil && len(b) == 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return b, atomicfile.WriteFile(path, b, 0o600)
}

// IdentityBinding is the secret `steward env --managed-identity` prints
// (IDENTITY_HEADER, and the proxy password): the subject (an identity's
// name or a resource ID) and a MAC over it with the binding key, so only
// who can read the data directory can bind an identity.
func IdentityBinding(key []byte, subject string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(subject)) + "." + bindingMAC(key, subject)
}

func bindingMAC(key []byte, subject string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("steward managed identity binding\x00" + subject))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// parseBinding checks a binding and returns its subject.
func parseBinding(key []byte, b string) (string, bool) {
	enc, mac, ok := strings.Cut(b, ".")
	if !ok {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(raw) == 0 {
		return "", false
	}
	subject := string(raw)
	return subject, hmac.Equal([]byte(mac), []byte(bindingMAC(key, subject)))
}
