package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/vending"
)

// VendingAudience is the application ID URI of the vending API: the
// audience of the tokens its public and internal APIs accept.
const VendingAudience = "api://steward-vending"

// The catalog's storage account, in the home subscription.
const (
	VendingResourceGroup = "steward-vending"
	VendingAccount       = "stewardvending"
)

// keyReaderRole is the custom role the internal identity holds on the
// catalog account, its only role there: read the account and list its
// keys (Azure's "Storage Account Key Operator Service Role" also
// regenerates them, which the valet key needs not).
const keyReaderRole = "5d0a4c5e-6f7e-4d1a-9b1e-7a3c2d9e8f10"

// VendingOptions configure the vending service.
type VendingOptions struct {
	// KeyLifetime is how long a valet key lasts (default 5 minutes).
	KeyLifetime time.Duration
	// PageSize bounds the public API's list pages (default 100).
	PageSize int
	// LeaseTTL is how long a replica's lease on a request it carries out
	// lasts without renewal (default vending.DefaultLeaseTTL); every
	// replica looks for requests whose lease ran out twice per TTL.
	LeaseTTL time.Duration
	// PlatformGroups are the Entra groups of the platform team: their
	// members read and change the catalog with their own tokens (changes
	// after a multifactor sign-in of the last 10 minutes), as the
	// administrator does.
	PlatformGroups []string
}

// VendingIdentity is one of the vending service's application identities.
type VendingIdentity struct {
	AppID    string `json:"appId"`
	ObjectID string `json:"objectId"`
	Sealed   []byte `json:"secret"`
	secret   string
}

// VendingPlane is the mounted vending service.
type VendingPlane struct {
	Public   *vending.Public
	Internal *vending.Internal
	// PublicIdentity holds no role; InternalIdentity holds the key
	// operator role on the catalog account and reads the vaults it is
	// given access to.
	PublicIdentity, InternalIdentity VendingIdentity
	// Account is the catalog storage account's resource ID.
	Account string

	mu    sync.Mutex
	ready bool
}

// VendingService is the Service that mounts Resource Group as a Service
// (internal/vending): the public API at /vending/v1/ and the internal API
// at /vending/internal/v1/, with the catalog in a storage account of the
// home subscription. Mount CloudService, VaultService and StorageService
// first. ready, when given, receives the plane.
func VendingService(opts VendingOptions, ready ...func(*VendingPlane)) Service {
	return func(ctx context.Context, s *Steward) error {
		p, err := s.mountVending(ctx, opts)
		if err != nil {
			return err
		}
		for _, f := range ready {
			f(p)
		}
		return nil
	}
}

const vendingTable = "vending"

// vendingIdentities creates, once, the API's application (its identifier
// URI is the token audience) and the public and internal identities, and
// keeps their secrets sealed in the store.
func (s *Steward) vendingIdentities(ctx context.Context) (pub, in VendingIdentity, err error) {
	tenant := s.Bootstrap.TenantID
	var rec struct{ Public, Internal VendingIdentity }
	err = s.Store.View(ctx, func(tx store.Tx) error {
		r, err := tx.Get(ctx, vendingTable, "identities")
		if err != nil {
			return err
		}
		return json.Unmarshal(r.Value, &rec)
	})
	if err == nil {
		for _, id := range []*VendingIdentity{&rec.Public, &rec.Internal} {
			plain, err := s.Sealer.Open(ctx, "vending/"+id.AppID, id.Sealed)
			if err != nil {
				return pub, in, err
			}
			id.secret = string(plain)
		}
		return rec.Public, rec.Internal, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return pub, in, err
	}
	if ok, err := s.Identity.Directory().HasResource(ctx, tenant, VendingAudience); err != nil {
		return pub, in, err
	} else if !ok {
		if _, _, err := s.Identity.CreateApplication(ctx, tenant, "Steward vending API", VendingAudience); err != nil {
			return pub, in, err
		}
	}
	mk := func(name string) (VendingIdentity, error) {
		app, sp, err := s.Identity.CreateApplication(ctx, tenant, name)
		if err != nil {
			return VendingIdentity{}, err
		}
		secret, _, err := s.Identity.AddClientSecret(ctx, tenant, app.AppID, "vending", 10*365*24*time.Hour)
		if err != nil {
			return VendingIdentity{}, err
		}
		sealed, err := s.Sealer.Seal("vending/"+app.AppID, []byte(secret))
		if err != nil {
			return VendingIdentity{}, err
		}
		return VendingIdentity{AppID: app.AppID, ObjectID: sp.ID, Sealed: sealed, secret: secret}, nil
	}
	if rec.Public, err = mk("Steward vending public API"); err != nil {
		return pub, in, err
	}
	if rec.Internal, err = mk("Steward vending internal API"); err != nil {
		return pub, in, err
	}
	b, _ := json.Marshal(rec)
	if err := s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, vendingTable, "identities", b, store.Cond{})
		return err
	}); err != nil {
		return pub, in, err
	}
	return rec.Public, rec.Internal, nil
}

func (s *Steward) mountVending(ctx context.Context, opts VendingOptions) (*VendingPlane, error) {
	if s.Cloud == nil {
		return nil, errors.New("vending: mount CloudService and StorageService before VendingService")
	}
	pubID, inID, err := s.vendingIdentities(ctx)
	if err != nil {
		return nil, fmt.Errorf("vending: %w", err)
	}
	pubCred, err := s.SecretCredential(pubID.AppID, pubID.secret)
	if err != nil {
		return nil, err
	}
	if err := s.vendingMultiTenant(ctx, inID.AppID); err != nil {
		return nil, fmt.Errorf("vending: %w", err)
	}
	// The internal identity signs in to the vaults of subscriptions of
	// other tenants too, where it has a service principal by consent.
	inCred, err := azidentity.NewClientSecretCredential(s.Bootstrap.TenantID, inID.AppID, inID.secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: s.ARMClientOptions(), DisableInstanceDiscovery: true,
			AdditionallyAllowedTenants: []string{"*"}})
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(s.BaseURL, "/")
	armOpts := s.ARMClientOptions()
	armOpts.Retry.MaxRetries = 2
	tableOpts := armOpts
	tableOpts.Cloud.Services = map[azcloud.ServiceName]azcloud.ServiceConfiguration{aztables.ServiceName: {Audience: StorageAudience}}
	account := "/subscriptions/" + s.Bootstrap.SubscriptionID + "/resourceGroups/" + VendingResourceGroup + "/providers/Microsoft.Storage/storageAccounts/" + VendingAccount
	validator := s.Validator(VendingAudience, VendingAudience+"/")
	caller := func(r *http.Request) (vending.Caller, bool) {
		p, ok := identity.PrincipalFrom(r.Context())
		return vending.Caller{ObjectID: p.ObjectID, TenantID: p.TenantID, AppID: p.AppID, Groups: p.Groups, App: p.IdentityType == "app",
			AMR: p.AMR, AuthTime: p.AuthTime}, ok
	}
	in := &vending.Internal{
		Credential: inCred, ARM: &azarm.ClientOptions{ClientOptions: armOpts},
		Account: account, TableEndpoint: base + "/tables/" + VendingAccount + "/",
		Tables: &aztables.ClientOptions{ClientOptions: tableOpts},
		Vaults: armOpts, SignIn: armOpts, AuthorityHost: s.BaseURL,
		ARMScope: "https://management.azure.com/.default", KeyLifetime: opts.KeyLifetime,
		AllowedApps: []string{pubID.AppID}, AdminApps: []string{s.Bootstrap.ClientID}, AdminGroups: opts.PlatformGroups,
		AuthorizationURI: base + "/{tenant}/oauth2/v2.0/authorize",
		Caller:           caller,
	}
	pub := &vending.Public{
		Internal: &vending.InternalClient{Base: base, Credential: pubCred, Scope: VendingAudience + "/.default",
			HTTP: &http.Client{Transport: s.Transport(), Timeout: time.Minute}},
		ARM:    &azarm.ClientOptions{ClientOptions: armOpts},
		Tables: &aztables.ClientOptions{ClientOptions: tableOpts},
		Caller: caller, PageSize: opts.PageSize, Log: s.log.With("component", "vending"),
		AuthorizationURI: base + "/{tenant}/oauth2/v2.0/authorize",
		Owner:            s.ReplicaID, LeaseTTL: opts.LeaseTTL,
	}
	p := &VendingPlane{Public: pub, Internal: in, PublicIdentity: pubID, InternalIdentity: inID, Account: account}
	in.Consent = func(ctx context.Context, tenantID string) (string, error) {
		oid, err := p.ConsentInternal(ctx, s, tenantID)
		if errors.Is(err, identity.ErrNotFound) {
			return "", arm.NotFound("TenantNotFound", "There is no tenant '%s'.", tenantID)
		}
		return oid, err
	}
	h := validator.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.ensureVendingCatalog(r.Context(), p); err != nil {
			s.log.Error("vending: preparing the catalog", "err", err)
			arm.WriteError(w, arm.Errorf(http.StatusServiceUnavailable, "CatalogUnavailable", "The vending catalog is not ready; try again."))
			return
		}
		if strings.HasPrefix(r.URL.Path, vending.InternalPrefix) {
			in.ServeHTTP(w, r)
			return
		}
		pub.ServeHTTP(w, r)
	}))
	s.Server.Router.HandlePrefix("vending", "/vending/", h)
	// Shutdown waits for the requests being carried out, so none is left
	// half done when the store closes.
	s.Background(func(ctx context.Context) { <-ctx.Done(); pub.Wait() })
	s.Background(func(ctx context.Context) { s.takeOverVending(ctx, p) })
	return p, nil
}

// takeOverVending takes over, twice per lease TTL, the vending requests
// whose replica died (vending.Public.TakeOver), once the catalog exists.
func (s *Steward) takeOverVending(ctx context.Context, p *VendingPlane) {
	every := p.Public.LeaseTTL
	if every <= 0 {
		every = vending.DefaultLeaseTTL
	}
	t := time.NewTicker(every / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Before any replica has made the catalog, no request can be in
		// progress: do not make it just to look.
		if _, err := s.Cloud.Get(ctx, p.Account); err != nil {
			continue
		}
		if err := s.ensureVendingCatalog(ctx, p); err != nil {
			s.log.Warn("vending: preparing the catalog to take requests over", "err", err)
			continue
		}
		if _, err := p.Public.TakeOver(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("vending: taking over requests", "err", err)
		}
	}
}

// vendingMultiTenant makes the internal API's application multi-tenant,
// so that another tenant's administrator can consent to it and give it
// roles on the vaults of that tenant's subscriptions.
func (s *Steward) vendingMultiTenant(ctx context.Context, appID string) error {
	dir := s.Identity.Directory()
	app, err := dir.Application(ctx, s.Bootstrap.TenantID, appID)
	if err != nil || app.SignInAudience == identity.AudienceMultipleOrgs {
		return err
	}
	app.SignInAudience = identity.AudienceMultipleOrgs
	return dir.PutApplication(ctx, app)
}

// ConsentInternal gives the internal API's identity a service principal in
// another tenant, as that tenant's administrator consenting to the
// multi-tenant application does, and returns its object ID there: the
// principal that tenant's subscription owners give roles on their
// execution context's vault. It is idempotent.
func (p *VendingPlane) ConsentInternal(ctx context.Context, s *Steward, tenantID string) (string, error) {
	tenantID = strings.ToLower(tenantID)
	if strings.EqualFold(tenantID, s.Bootstrap.TenantID) {
		return p.InternalIdentity.ObjectID, nil
	}
	dir := s.Identity.Directory()
	if sp, err := dir.ServicePrincipal(ctx, tenantID, p.InternalIdentity.AppID); err == nil {
		return sp.ID, nil
	} else if !errors.Is(err, identity.ErrNotFound) {
		return "", err
	}
	if _, err := dir.Tenant(ctx, tenantID); err != nil {
		return "", err
	}
	sp := identity.ServicePrincipal{ID: s.Identity.NewID(), AppID: p.InternalIdentity.AppID, TenantID: tenantID,
		DisplayName: "Steward vending internal API", AccountEnabled: true, AppOwnerTenantID: strings.ToLower(s.Bootstrap.TenantID),
		Created: s.Identity.Now().UTC()}
	return sp.ID, dir.PutServicePrincipal(ctx, sp)
}

// ensureVendingCatalog creates, the first time, the catalog's storage
// account, gives the internal identity the key operator role on it, and
// creates the tables; as the administrator, through the Azure SDK.
func (s *Steward) ensureVendingCatalog(ctx context.Context, p *VendingPlane) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ready {
		return nil
	}
	cred, err := s.SecretCredential(s.Bootstrap.ClientID, s.Bootstrap.ClientSecret)
	if err != nil {
		return err
	}
	opts := &azarm.ClientOptions{ClientOptions: s.ARMClientOptions()}
	sub := s.Bootstrap.SubscriptionID
	rgs, err := armresources.NewResourceGroupsClient(sub, cred, opts)
	if err != nil {
		return err
	}
	if _, err := rgs.CreateOrUpdate(ctx, VendingResourceGroup, armresources.ResourceGroup{Location: to.Ptr("westeurope"),
		Tags: map[string]*string{"steward": to.Ptr("vending catalog")}}, nil); err != nil {
		return err
	}
	ac, err := armstorage.NewAccountsClient(sub, cred, opts)
	if err != nil {
		return err
	}
	if _, err := ac.GetProperties(ctx, VendingResourceGroup, VendingAccount, nil); err != nil {
		poller, err := ac.BeginCreate(ctx, VendingResourceGroup, VendingAccount, armstorage.AccountCreateParameters{
			Kind: to.Ptr(armstorage.KindStorageV2), Location: to.Ptr("westeurope"),
			SKU: &armstorage.SKU{Name: to.Ptr(armstorage.SKUNameStandardLRS)}}, nil)
		if err != nil {
			return err
		}
		if _, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 20 * time.Millisecond}); err != nil {
			return err
		}
	}
	defs, err := armauthorization.NewRoleDefinitionsClient(cred, opts)
	if err != nil {
		return err
	}
	rgScope := "/subscriptions/" + sub + "/resourceGroups/" + VendingResourceGroup
	if _, err := defs.CreateOrUpdate(ctx, rgScope, keyReaderRole, armauthorization.RoleDefinition{Properties: &armauthorization.RoleDefinitionProperties{
		RoleName: to.Ptr("Steward vending catalog key reader"), RoleType: to.Ptr("CustomRole"),
		Description:      to.Ptr("Reads the vending catalog's storage account and lists its keys, to sign valet keys."),
		AssignableScopes: []*string{to.Ptr(rgScope)},
		Permissions: []*armauthorization.Permission{{Actions: []*string{to.Ptr("Microsoft.Storage/storageAccounts/read"),
			to.Ptr("Microsoft.Storage/storageAccounts/listKeys/action")}}}}}, nil); err != nil {
		return err
	}
	doc := rbac.RoleAssignmentDocument(p.Account, keyReaderRole, p.InternalIdentity.ObjectID, rbac.PrincipalServicePrincipal)
	if _, _, err := s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: doc["id"].(string), Type: cloud.TypeRoleAssignment, Doc: doc}); err != nil {
		var ae *arm.Error
		if !errors.As(err, &ae) || ae.Code != "RoleAssignmentExists" {
			return err
		}
	}
	w, err := p.Internal.Writer(ctx)
	if err != nil {
		return err
	}
	if err := w.EnsureTables(ctx); err != nil {
		return err
	}
	p.ready = true
	return nil
}
