package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/seal"
	"github.com/steward-gov/steward/internal/vault"
)

// DefaultVaultName is the vault Steward creates on first start, in the
// home tenant's default subscription (resource group "steward"), for its
// own credentials.
const DefaultVaultName = "steward"

// kvAdministratorRoleID is the built-in Key Vault Administrator role.
const kvAdministratorRoleID = "00482a5a-887f-4fb3-b363-3b7fe8e74483"

// VaultOptions configure the vault data plane.
type VaultOptions struct {
	// DNSSuffix routes hosts {name}.{suffix} to vaults and makes the
	// vaultUri of vault resources (default vault.azure.net).
	DNSSuffix string
}

// VaultPlane is the mounted vault: the service, its sealer (Steward's, see
// Steward.Sealer), the handler and the default vault.
type VaultPlane struct {
	Service *vault.Service
	Sealer  *seal.Sealer
	Handler *vault.Handler
	Default vault.Vault
}

// MaintenanceInterval is how often RunMaintenance looks for deleted
// objects to purge, keys to rotate and certificates to renew.
const MaintenanceInterval = time.Minute

// RunMaintenance purges, rotates and renews what is due every
// MaintenanceInterval until ctx is done (one replica at a time, under a
// store lock). steward serve runs it next to Run.
func (p *VaultPlane) RunMaintenance(ctx context.Context) {
	p.Service.MaintainEvery(ctx, MaintenanceInterval)
}

// VaultService is the Service that mounts the Key Vault data plane. With
// the embedded ARM (CloudService mounted before it), vaults are ARM
// resources (Microsoft.KeyVault/vaults, created with PUT as in Azure; a hook
// registers each with the data plane and fills properties.vaultUri),
// authorization uses the ARM's RBAC engine with the Key Vault data roles,
// and the bootstrap administrator holds Key Vault Administrator at the
// tenant root. Without it, an RBAC engine of its own grants the
// administrator that role on the default subscription. Either way a
// default vault named "steward" exists. ready, when given, receives the
// mounted plane.
func VaultService(opts VaultOptions, ready ...func(*VaultPlane)) Service {
	return func(ctx context.Context, s *Steward) error {
		p, err := s.mountVault(ctx, opts)
		if err != nil {
			return err
		}
		for _, f := range ready {
			f(p)
		}
		return nil
	}
}

func (s *Steward) mountVault(ctx context.Context, opts VaultOptions) (*VaultPlane, error) {
	if opts.DNSSuffix == "" {
		opts.DNSSuffix = vault.DefaultDNSSuffix
	}
	sealer := s.Sealer
	var err error
	svc := vault.NewService(s.Store, sealer, vault.Options{Logger: s.log.With("component", "vault")})
	info := s.Bootstrap
	defID := "/subscriptions/" + info.SubscriptionID + "/resourceGroups/steward/providers/" + vault.TypeVault + "/" + DefaultVaultName
	var authz vault.Authorizer
	if c := s.Cloud; c != nil {
		c.OnPut(vault.TypeVault, svc.PutVaultHook(opts.DNSSuffix, info.TenantID))
		c.OnDelete(vault.TypeVault, svc.DeleteVaultHook())
		usage := s.usageRecorder()
		authz = vault.AuthorizerFunc(func(ctx context.Context, p identity.Principal, action, scope string) (bool, error) {
			ok := c.Allowed(ctx, p, rbac.Request{PrincipalID: p.ObjectID, Groups: p.Groups, Action: action, DataAction: true, Scope: scope})
			if ok {
				usage.Note(p.ObjectID, scope, action)
			}
			return ok, nil
		})
		if err := ensureVaultResources(ctx, c, info, defID); err != nil {
			return nil, err
		}
		c.SetSecretResolver(deploymentSecrets(c, svc))
	} else {
		if authz, err = standaloneVaultAuthorizer(info.SubscriptionID, info.ObjectID); err != nil {
			return nil, err
		}
	}
	def, err := svc.GetVault(ctx, DefaultVaultName)
	if err != nil {
		def, err = svc.PutVault(ctx, vault.Vault{Name: DefaultVaultName, TenantID: info.TenantID, ResourceID: defID})
		if err != nil {
			return nil, fmt.Errorf("default vault: %w", err)
		}
	}
	h := svc.Handler(vault.HandlerOptions{
		Validator:     s.Validator(vault.DefaultResource),
		Authorizer:    authz,
		AuthorityHost: strings.TrimSuffix(s.BaseURL, "/"),
		HostAuthority: "https://" + LoginHosts[0],
		PublicURL:     strings.TrimSuffix(s.BaseURL, "/"),
		DNSSuffix:     opts.DNSSuffix,
		Logger:        s.log.With("component", "vault"),
		Auditor:       s.vaultAuditor(),
	})
	s.Server.Router.Handle(Route{Name: "vault", Match: h.Matches, Handler: h})
	// {vault}.vault.azure.net through the proxy: the handler reads the
	// vault's name from the host, and object IDs take Azure's shape.
	s.Server.Router.Host("*." + opts.DNSSuffix).Handle(Route{Name: "vault", Match: h.Matches, Handler: h})
	return &VaultPlane{Service: svc, Sealer: sealer, Handler: h, Default: def}, nil
}

// ensureVaultResources gives the administrator Key Vault Administrator at
// the tenant root and creates the default vault as an ARM resource (with
// its resource group) when missing.
func ensureVaultResources(ctx context.Context, c *cloud.Cloud, info identity.BootstrapInfo, defID string) error {
	if info.ObjectID != "" {
		doc := rbac.RoleAssignmentDocument("/", kvAdministratorRoleID, info.ObjectID, rbac.PrincipalServicePrincipal)
		if props, _ := doc["properties"].(map[string]any); props != nil {
			props["roleDefinitionId"] = "/providers/Microsoft.Authorization/roleDefinitions/" + kvAdministratorRoleID
			props["description"] = "Steward administrator (bootstrap): vault data access"
		}
		id, _ := doc["id"].(string)
		if ok, err := c.Exists(ctx, id); err != nil {
			return err
		} else if !ok {
			if _, _, err := c.Put(ctx, nil, cloud.PutRequest{ID: id, Type: cloud.TypeRoleAssignment, Doc: doc}); err != nil {
				return fmt.Errorf("vault administrator role assignment: %w", err)
			}
		}
	}
	if info.SubscriptionID == "" {
		return nil
	}
	rg := defID[:strings.Index(defID, "/providers/")]
	for _, r := range []struct{ id, typ string }{{rg, cloud.TypeResourceGroup}, {defID, vault.TypeVault}} {
		ok, err := c.Exists(ctx, r.id)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		doc := map[string]any{"id": r.id, "name": r.id[strings.LastIndex(r.id, "/")+1:], "type": r.typ, "location": "local",
			"properties": map[string]any{}}
		if r.typ == vault.TypeVault {
			doc["properties"] = map[string]any{"tenantId": info.TenantID, "enableRbacAuthorization": true,
				"sku": map[string]any{"family": "A", "name": "standard"}}
		}
		if _, _, err := c.Put(ctx, nil, cloud.PutRequest{ID: r.id, Type: r.typ, Doc: doc}); err != nil {
			return fmt.Errorf("default vault resource %s: %w", r.id, err)
		}
	}
	return ensurePlatformLock(ctx, c, rg)
}

// PlatformLockName is the CanNotDelete lock Steward keeps on its own
// resource group (and so on the default vault and its secrets in it).
const PlatformLockName = "steward-platform"

// ensurePlatformLock creates the platform lock on scope when it is
// missing. A user with Owner may remove it (Azure's rule for locks); the
// next start puts it back.
func ensurePlatformLock(ctx context.Context, c *cloud.Cloud, scope string) error {
	id := scope + "/providers/" + cloud.TypeLock + "/" + PlatformLockName
	if ok, err := c.Exists(ctx, id); err != nil || ok {
		return err
	}
	doc := map[string]any{"id": id, "name": PlatformLockName, "type": cloud.TypeLock, "properties": map[string]any{
		"level": cloud.LockCanNotDelete,
		"notes": "Steward's own resource group: the default vault holds Steward's credentials. Remove this lock only to retire the data directory."}}
	if _, _, err := c.Put(ctx, nil, cloud.PutRequest{ID: id, Type: cloud.TypeLock, Doc: doc}); err != nil {
		return fmt.Errorf("platform lock on %s: %w", scope, err)
	}
	return nil
}

// standaloneVaultAuthorizer is the authorizer without the embedded ARM:
// the bootstrap administrator holds Key Vault Administrator on the default
// subscription, and nobody holds anything else.
func standaloneVaultAuthorizer(subscriptionID, adminObjectID string) (vault.Authorizer, error) {
	cat, err := rbac.BuiltInCatalog()
	if err != nil {
		return nil, err
	}
	e := rbac.NewEngine(cat)
	if adminObjectID != "" && subscriptionID != "" {
		doc := rbac.RoleAssignmentDocument("/subscriptions/"+subscriptionID, kvAdministratorRoleID, adminObjectID, rbac.PrincipalServicePrincipal)
		id, _ := doc["id"].(string)
		name := id[strings.LastIndex(id, "/")+1:]
		if err := e.AddRoleAssignment(rbac.RoleAssignment{ID: id, Name: name, Scope: "/subscriptions/" + subscriptionID,
			RoleDefinitionID: kvAdministratorRoleID, PrincipalID: adminObjectID, PrincipalType: rbac.PrincipalServicePrincipal}); err != nil {
			return nil, fmt.Errorf("vault administrator assignment: %w", err)
		}
	}
	return vault.RBACAuthorizer(func() *rbac.Engine { return e }), nil
}
