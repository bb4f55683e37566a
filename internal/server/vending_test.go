package server

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armlocks"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azcertificates"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/authorization"
	"github.com/steward-gov/steward/internal/cloud/policyprovider"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/vending"
)

const (
	ownerRole       = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	contributorRole = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	cryptoUserRole  = "12338af0-0e69-4776-bea7-57ae8d297424"
	vaultAdminRole  = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
	// tableDataContributorRole is Storage Table Data Contributor.
	tableDataContributorRole = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
	// noEntityDelete is the catalog's ABAC condition on it.
	noEntityDelete      = "((!(ActionMatches{'Microsoft.Storage/storageAccounts/tableServices/tables/entities/delete'})))"
	certificateUserRole = "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba"
)

// vendingEnv is a Steward with the vending service, two subscriptions
// with their execution contexts (each secret in the subscription's own
// vault), and two teams.
type vendingEnv struct {
	s     *Steward
	dir   string
	plane *VendingPlane
	admin azcore.TokenCredential
	opts  *azarm.ClientOptions
	subs  [2]string
	// tenants are the subscriptions' tenants: the home tenant and another.
	tenants [2]string
	// execApps are the execution contexts' application IDs.
	execApps [2]string
	teams    [2]azcore.TokenCredential
	// teamApps and teamSecrets are the teams' application IDs and
	// client secrets.
	teamApps, teamSecrets [2]string
	// cfg is the Steward's configuration.
	cfg Config
	// devs are the Entra groups the catalog gives Contributor on new
	// groups; team i is a member of devs[i].
	devs [2]string
}

// vendingServices are the services a vending test's Steward mounts.
func vendingServices(opts VendingOptions, mounted func(*VendingPlane)) []Service {
	return vendingServicesWith(vendingSetup, opts, mounted)
}

// vendingServicesWith is vendingServices with another cloud setup and more
// services.
func vendingServicesWith(setup CloudSetup, opts VendingOptions, mounted func(*VendingPlane), extra ...Service) []Service {
	return append([]Service{CloudService(setup), VaultService(VaultOptions{}), StorageService(), VendingService(opts, mounted)}, extra...)
}

func vendingSetup(ctx context.Context, s *Steward, c *cloud.Cloud) error {
	if err := authorization.Register(c); err != nil {
		return err
	}
	_, err := policyprovider.Register(c, policyprovider.Options{})
	return err
}

func newVendingEnv(t testing.TB) *vendingEnv {
	t.Helper()
	return newVendingEnvOn(t, "", VendingOptions{PageSize: 1})
}

// newVendingEnvWith is newVendingEnv with another cloud setup (which must
// register authorization and policy) and more services.
func newVendingEnvWith(t testing.TB, setup CloudSetup, extra ...Service) *vendingEnv {
	t.Helper()
	return newVendingEnvFull(t, "", VendingOptions{PageSize: 1}, setup, extra)
}

// newVendingEnvOn is newVendingEnv on the store at storeURL (the data
// directory's SQLite file when empty), with opts; mounted are called with
// the vending plane before the Steward runs.
func newVendingEnvOn(t testing.TB, storeURL string, opts VendingOptions, mounted ...func(*VendingPlane)) *vendingEnv {
	t.Helper()
	return newVendingEnvFull(t, storeURL, opts, vendingSetup, nil, mounted...)
}

func newVendingEnvFull(t testing.TB, storeURL string, opts VendingOptions, setup CloudSetup, extra []Service, mounted ...func(*VendingPlane)) *vendingEnv {
	t.Helper()
	dir := t.TempDir()
	e := &vendingEnv{dir: dir, cfg: testConfig(dir)}
	e.cfg.StoreURL = storeURL
	s, _ := startStewardWith(t, e.cfg, vendingServicesWith(setup, opts, func(p *VendingPlane) {
		e.plane = p
		for _, f := range mounted {
			f(p)
		}
	}, extra...)...)
	e.s = s
	ctx := context.Background()
	e.opts = &azarm.ClientOptions{ClientOptions: s.ARMClientOptions()}
	e.admin = adminCredential(t, dir, s.ARMClientOptions())
	home := s.Bootstrap.TenantID
	// The second subscription trusts another tenant, as one made with
	// `steward tenant create` and `steward subscription create --tenant`.
	other, err := s.Identity.CreateTenant(ctx, "Fabrikam")
	if err != nil {
		t.Fatal(err)
	}
	e.tenants = [2]string{home, other.ID}
	e.subs[0] = s.Bootstrap.SubscriptionID
	e.subs[1] = "5b1e4c6a-7d2f-4e8a-9c3b-1f0a2b3c4d5e"
	if _, _, err := s.Cloud.CreateSubscription(ctx, nil, cloud.Subscription{ID: e.subs[1], DisplayName: "second", TenantID: other.ID}); err != nil {
		t.Fatal(err)
	}
	for i, sub := range e.subs {
		tenant := e.tenants[i]
		// The execution context: an application of the subscription's
		// tenant that owns the subscription.
		app, sp, err := s.Identity.CreateApplication(ctx, tenant, "exec-"+sub[:8])
		if err != nil {
			t.Fatal(err)
		}
		e.assign(t, "/subscriptions/"+sub, ownerRole, sp.ID, rbac.PrincipalServicePrincipal)
		// Its credential is a certificate of the subscription's own vault
		// with a non-exportable key; the internal identity may sign with
		// it and read the certificate, nothing more.
		vaultName := "exec-kv-" + sub[:8]
		e.putVault(t, sub, vaultName, tenant)
		vaultID := "/subscriptions/" + sub + "/resourceGroups/exec/providers/Microsoft.KeyVault/vaults/" + vaultName
		// The vault is managed by the subscription's owners: in the other
		// tenant, an application of that tenant.
		owner := e.admin
		if tenant != home {
			oapp, osp, err := s.Identity.CreateApplication(ctx, tenant, "owner-"+sub[:8])
			if err != nil {
				t.Fatal(err)
			}
			osecret, _, err := s.Identity.AddClientSecret(ctx, tenant, oapp.AppID, "x", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			e.assign(t, vaultID, vaultAdminRole, osp.ID, rbac.PrincipalServicePrincipal)
			if owner, err = azidentity.NewClientSecretCredential(tenant, oapp.AppID, osecret, &azidentity.ClientSecretCredentialOptions{
				ClientOptions: s.ARMClientOptions(), DisableInstanceDiscovery: true}); err != nil {
				t.Fatal(err)
			}
		}
		// The internal identity, consented to in the subscription's tenant.
		internal, err := e.plane.ConsentInternal(ctx, s, tenant)
		if err != nil {
			t.Fatal(err)
		}
		e.assign(t, vaultID, cryptoUserRole, internal, rbac.PrincipalServicePrincipal)
		e.assign(t, vaultID, certificateUserRole, internal, rbac.PrincipalServicePrincipal)
		e.execCertificate(t, owner, "https://"+vaultName+".vault.azure.net", tenant, app.AppID)
		e.execApps[i] = app.AppID
		// A team and the Entra group the catalog gives Contributor.
		tapp, tsp, err := s.Identity.CreateApplication(ctx, home, "team-"+string(rune('a'+i)))
		if err != nil {
			t.Fatal(err)
		}
		tsecret, _, err := s.Identity.AddClientSecret(ctx, home, tapp.AppID, "x", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if e.teams[i], err = s.SecretCredential(tapp.AppID, tsecret); err != nil {
			t.Fatal(err)
		}
		e.teamApps[i], e.teamSecrets[i] = tapp.AppID, tsecret
		g, err := s.Identity.CreateGroup(ctx, home, "devs-"+string(rune('a'+i)), tsp.ID)
		if err != nil {
			t.Fatal(err)
		}
		e.devs[i] = g.ID
		// Azure assigns roles on a subscription only to principals of its
		// own tenant: in the other tenant, the catalog gives the role to a
		// group of that tenant.
		roleGroup := g.ID
		if tenant != home {
			og, err := s.Identity.CreateGroup(ctx, tenant, "ops-"+string(rune('a'+i)))
			if err != nil {
				t.Fatal(err)
			}
			roleGroup = og.ID
		}
		// A custom policy the catalog assigns on new groups.
		pd, err := armpolicy.NewDefinitionsClient(sub, e.admin, e.opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pd.CreateOrUpdate(ctx, "deny-public-ip", armpolicy.Definition{Properties: &armpolicy.DefinitionProperties{
			Mode: to.Ptr("All"), PolicyRule: map[string]any{"if": map[string]any{"field": "type", "equals": "Microsoft.Network/publicIPAddresses"},
				"then": map[string]any{"effect": "deny"}}}}, nil); err != nil {
			t.Fatal(err)
		}
		cat := vending.Subscription{ID: sub, DisplayName: "sub " + string(rune('a'+i)),
			Execution: vending.ExecutionContext{TenantID: tenant, ClientID: app.AppID, VaultURL: "https://" + vaultName + ".vault.azure.net", CertificateName: "exec"},
			Tags:      []vending.TagRule{{Name: "Owner", Required: true}, {Name: "Criticality", Allowed: []string{"low", "high"}}},
			Roles: []vending.RoleAssignment{{PrincipalID: roleGroup, PrincipalType: "Group", RoleDefinitionID: "/providers/Microsoft.Authorization/roleDefinitions/" + contributorRole},
				// Table data, but never deleting an entity (an ABAC condition).
				{PrincipalID: roleGroup, PrincipalType: "Group", RoleDefinitionID: "/providers/Microsoft.Authorization/roleDefinitions/" + tableDataContributorRole,
					Condition: noEntityDelete}},
			Policies: []vending.PolicyAssignment{{Name: "deny-public-ip", DefinitionID: "/subscriptions/" + sub + "/providers/Microsoft.Authorization/policyDefinitions/deny-public-ip"}},
			Naming:   "rg-{env}-{costCenter}-{name}-{region}", Lock: true,
			Budget: &vending.Budget{Amount: 500, TimeGrain: "Monthly", Notifications: []vending.BudgetNotification{
				{Threshold: 80, ContactEmails: []string{"team@example.com"}}, {Threshold: 100, ThresholdType: "Forecasted", ContactEmails: []string{"finance@example.com"}}}}}
		e.admin2(t, http.MethodPut, vending.CatalogPath+"/subscriptions", cat, http.StatusOK)
		// Each team is authorized on its own subscription: team a
		// directly, team b through its group.
		who := tsp.ID
		if i == 1 {
			who = g.ID
		}
		e.admin2(t, http.MethodPut, vending.CatalogPath+"/authorizations", vending.Authorization{PrincipalID: who, SubscriptionID: sub,
			CostCenters: []string{"cc" + string(rune('1'+i)), "cc9"}, Environments: []string{"dev", "test"}, Regions: []string{"westeurope"}}, http.StatusOK)
	}
	return e
}

func (e *vendingEnv) assign(t testing.TB, scope, role, principal, ptype string) {
	t.Helper()
	doc := rbac.RoleAssignmentDocument(scope, role, principal, ptype)
	if _, _, err := e.s.Cloud.Put(context.Background(), nil, cloud.PutRequest{ID: doc["id"].(string), Type: cloud.TypeRoleAssignment, Doc: doc}); err != nil {
		t.Fatal(err)
	}
}

// execCertificate creates the certificate "exec" with a non-exportable
// key in the vault and makes it a certificate credential of the
// application.
func (e *vendingEnv) execCertificate(t testing.TB, owner azcore.TokenCredential, vaultURL, tenant, appID string) {
	t.Helper()
	ctx := context.Background()
	certs, err := azcertificates.NewClient(vaultURL, owner, &azcertificates.ClientOptions{ClientOptions: e.s.ARMClientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := certs.CreateCertificate(ctx, "exec", azcertificates.CreateCertificateParameters{CertificatePolicy: &azcertificates.CertificatePolicy{
		IssuerParameters:          &azcertificates.IssuerParameters{Name: to.Ptr("Self")},
		KeyProperties:             &azcertificates.KeyProperties{Exportable: to.Ptr(false), KeyType: to.Ptr(azcertificates.KeyTypeRSA)},
		X509CertificateProperties: &azcertificates.X509CertificateProperties{Subject: to.Ptr("CN=vending-exec")},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := certs.GetCertificate(ctx, "exec", "", nil)
	if err != nil || res.ID == nil {
		t.Fatal(err)
	}
	x, err := x509.ParseCertificate(cert.CER)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Identity.AddCertificate(ctx, tenant, appID, "vault:exec", x); err != nil {
		t.Fatal(err)
	}
}

func (e *vendingEnv) putVault(t testing.TB, sub, name, tenant string) {
	t.Helper()
	ctx := context.Background()
	rgs, _ := armresources.NewResourceGroupsClient(sub, e.admin, e.opts)
	if _, err := rgs.CreateOrUpdate(ctx, "exec", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	res, _ := armresources.NewClient(sub, e.admin, e.opts)
	p, err := res.BeginCreateOrUpdateByID(ctx, "/subscriptions/"+sub+"/resourceGroups/exec/providers/Microsoft.KeyVault/vaults/"+name, "2023-07-01",
		armresources.GenericResource{Location: to.Ptr("westeurope"), Properties: map[string]any{"tenantId": tenant,
			"sku": map[string]any{"family": "A", "name": "standard"}, "enableRbacAuthorization": true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
}

// call sends an API request as cred and decodes the answer.
func (e *vendingEnv) call(t testing.TB, cred azcore.TokenCredential, method, path string, body any, hdr map[string]string) (int, http.Header, map[string]any) {
	t.Helper()
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{VendingAudience + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	u := path
	if !strings.HasPrefix(u, "https://") {
		u = strings.TrimSuffix(e.s.BaseURL, "/") + path
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: e.s.Transport()}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header, out
}

func (e *vendingEnv) admin2(t testing.TB, method, path string, body any, want int) map[string]any {
	t.Helper()
	st, _, out := e.call(t, e.admin, method, path, body, nil)
	if st != want {
		t.Fatalf("%s %s = %d %v, want %d", method, path, st, out, want)
	}
	return out
}

// list follows nextLink and returns every value.
func (e *vendingEnv) list(t *testing.T, cred azcore.TokenCredential, path string) ([]any, int) {
	t.Helper()
	var all []any
	pages := 0
	for path != "" {
		st, _, out := e.call(t, cred, http.MethodGet, path, nil, nil)
		if st != http.StatusOK {
			t.Fatalf("GET %s = %d %v", path, st, out)
		}
		pages++
		all = append(all, out["value"].([]any)...)
		path, _ = out["nextLink"].(string)
	}
	return all, pages
}

func TestVendingSeed001EndToEnd(t *testing.T) {
	e := newVendingEnv(t)
	ctx := context.Background()

	// Each team sees only its subscription, cost centers, environments and
	// regions (team b through its group), a page at a time.
	for i, team := range e.teams {
		subs, _ := e.list(t, team, "/vending/v1/subscriptions")
		if len(subs) != 1 || subs[0].(map[string]any)["subscriptionId"] != e.subs[i] {
			t.Fatalf("team %d sees %v", i, subs)
		}
		ccs, pages := e.list(t, team, "/vending/v1/subscriptions/"+e.subs[i]+"/costCenters")
		if want := "cc" + string(rune('1'+i)); len(ccs) != 2 || ccs[0] != want || ccs[1] != "cc9" || pages != 2 {
			t.Fatalf("team %d cost centers %v in %d pages", i, ccs, pages)
		}
		if envs, _ := e.list(t, team, "/vending/v1/subscriptions/"+e.subs[i]+"/environments"); len(envs) != 2 {
			t.Fatalf("team %d environments %v", i, envs)
		}
		if regs, _ := e.list(t, team, "/vending/v1/subscriptions/"+e.subs[i]+"/regions"); len(regs) != 1 || regs[0] != "westeurope" {
			t.Fatalf("team %d regions %v", i, regs)
		}
		if st, _, out := e.call(t, team, http.MethodGet, "/vending/v1/subscriptions/"+e.subs[1-i]+"/regions", nil, nil); st != http.StatusNotFound {
			t.Fatalf("team %d reads the other subscription: %d %v", i, st, out)
		}
	}

	if st, _, doc := e.call(t, e.teams[0], http.MethodGet, "/vending/v1/openapi.json", nil, nil); st != http.StatusOK || doc["openapi"] == nil {
		t.Fatalf("openapi.json: %d", st)
	}

	// Requests outside the grants are refused, naming what is not allowed.
	good := vending.Request{SubscriptionID: e.subs[0], Name: "web", Environment: "dev", CostCenter: "cc1", Region: "westeurope",
		Tags: map[string]string{"Owner": "team-a", "Criticality": "low"}}
	for _, c := range []struct {
		name   string
		edit   func(r *vending.Request)
		status int
		code   string
		says   string
	}{
		{"other subscription", func(r *vending.Request) { r.SubscriptionID = e.subs[1] }, 403, "SubscriptionNotAuthorized", e.subs[1]},
		{"environment", func(r *vending.Request) { r.Environment = "prod" }, 403, "NotAuthorized", "environment 'prod'"},
		{"cost center", func(r *vending.Request) { r.CostCenter = "cc2" }, 403, "NotAuthorized", "cost center 'cc2'"},
		{"region", func(r *vending.Request) { r.Region = "eastus" }, 403, "NotAuthorized", "region 'eastus'"},
		{"tag value", func(r *vending.Request) { r.Tags = map[string]string{"Owner": "a", "Criticality": "extreme"} }, 400, "InvalidTagValue", "low, high"},
		{"unknown tag", func(r *vending.Request) { r.Tags = map[string]string{"Owner": "a", "Color": "red"} }, 400, "InvalidTag", "Color"},
		{"missing tag", func(r *vending.Request) { r.Tags = nil }, 400, "MissingTag", "Owner"},
		{"bad name", func(r *vending.Request) { r.Name = "a b" }, 400, "InvalidName", "a b"},
	} {
		r := good
		c.edit(&r)
		st, _, out := e.call(t, e.teams[0], http.MethodPost, "/vending/v1/resourceGroups", r, nil)
		errObj, _ := out["error"].(map[string]any)
		if st != c.status || errObj["code"] != c.code || !strings.Contains(errObj["message"].(string), c.says) {
			t.Errorf("%s: %d %v", c.name, st, out)
		}
	}

	// A granted request: 202 and an operation URL; the same client request
	// ID is the same request.
	hdr := map[string]string{"x-ms-client-request-id": "7f0c2d1e-0000-4000-8000-000000000001"}
	st, h, out := e.call(t, e.teams[0], http.MethodPost, "/vending/v1/resourceGroups", good, hdr)
	if st != http.StatusAccepted || h.Get("Location") == "" || h.Get("Azure-AsyncOperation") != h.Get("Location") {
		t.Fatalf("request: %d %v %v", st, h, out)
	}
	id := out["id"].(string)
	if st, h2, again := e.call(t, e.teams[0], http.MethodPost, "/vending/v1/resourceGroups", good, hdr); st != http.StatusAccepted || again["id"] != id || h2.Get("Location") != h.Get("Location") {
		t.Fatalf("retry: %d %v", st, again)
	}
	e.plane.Public.Wait()
	st, _, rec := e.call(t, e.teams[0], http.MethodGet, h.Get("Location"), nil, nil)
	if st != http.StatusOK || rec["status"] != vending.StatusSucceeded {
		t.Fatalf("operation: %d %v", st, rec)
	}
	// The other team cannot read it.
	if st, _, _ := e.call(t, e.teams[1], http.MethodGet, h.Get("Location"), nil, nil); st != http.StatusNotFound {
		t.Fatalf("team b reads team a's request: %d", st)
	}
	if mine, _ := e.list(t, e.teams[0], "/vending/v1/requests"); len(mine) != 1 || mine[0].(map[string]any)["id"] != id {
		t.Fatalf("team a's requests: %v", mine)
	}
	if theirs, _ := e.list(t, e.teams[1], "/vending/v1/requests"); len(theirs) != 0 {
		t.Fatalf("team b's requests: %v", theirs)
	}

	// The group, with its tags, RBAC, policy and lock, through the ARM API.
	sub := e.subs[0]
	name := "rg-dev-cc1-web-westeurope"
	scope := "/subscriptions/" + sub + "/resourceGroups/" + name
	rgs, _ := armresources.NewResourceGroupsClient(sub, e.admin, e.opts)
	rg, err := rgs.Get(ctx, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"Environment": "dev", "CostCenter": "cc1", "Owner": "team-a", "Criticality": "low"} {
		if got := rg.Tags[k]; got == nil || *got != v {
			t.Errorf("tag %s = %v", k, got)
		}
	}
	ras, _ := armauthorization.NewRoleAssignmentsClient(sub, e.admin, e.opts)
	pager := ras.NewListForScopePager(scope, &armauthorization.RoleAssignmentsClientListForScopeOptions{Filter: to.Ptr("atScope()")})
	found := false
	var abacRA *armauthorization.RoleAssignment
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ra := range page.Value {
			if *ra.Properties.PrincipalID == e.devs[0] && strings.HasSuffix(*ra.Properties.RoleDefinitionID, contributorRole) && strings.EqualFold(*ra.Properties.Scope, scope) {
				found = true
			}
			if *ra.Properties.PrincipalID == e.devs[0] && strings.HasSuffix(*ra.Properties.RoleDefinitionID, tableDataContributorRole) {
				abacRA = ra
			}
		}
	}
	if !found {
		t.Error("no Contributor assignment for the team's group on the new group")
	}
	// The table data role carries its ABAC condition, version 2.0.
	if abacRA == nil {
		t.Fatal("no Storage Table Data Contributor assignment on the new group")
	}
	if p := abacRA.Properties; p.Condition == nil || *p.Condition != noEntityDelete || p.ConditionVersion == nil || *p.ConditionVersion != "2.0" {
		t.Fatalf("conditional role assignment: %+v", p)
	}
	pas, _ := armpolicy.NewAssignmentsClient(sub, e.admin, e.opts)
	if pa, err := pas.Get(ctx, scope, "deny-public-ip", nil); err != nil || !strings.HasSuffix(*pa.Properties.PolicyDefinitionID, "/deny-public-ip") {
		t.Errorf("policy assignment: %v", err)
	}
	// The budget, a Microsoft.Consumption resource at the group's scope.
	generic, _ := armresources.NewClient(sub, e.admin, e.opts)
	budgetID := scope + "/providers/Microsoft.Consumption/budgets/" + vending.BudgetName
	budget, err := generic.GetByID(ctx, budgetID, vending.BudgetAPIVersion, nil)
	if err != nil {
		t.Fatalf("budget: %v", err)
	}
	bp, _ := budget.Properties.(map[string]any)
	notes, _ := bp["notifications"].(map[string]any)
	if bp["amount"] != 500.0 || bp["timeGrain"] != "Monthly" || bp["category"] != "Cost" || len(notes) != 2 {
		t.Errorf("budget properties: %v", bp)
	}
	for _, n := range notes {
		if n := n.(map[string]any); n["enabled"] != true || n["operator"] != "GreaterThanOrEqualTo" || len(n["contactEmails"].([]any)) != 1 {
			t.Errorf("budget notification: %v", n)
		}
	}
	// A budget Azure would refuse is refused (400 InvalidBudget).
	if _, err := generic.BeginCreateOrUpdateByID(ctx, scope+"/providers/Microsoft.Consumption/budgets/weekly", vending.BudgetAPIVersion,
		armresources.GenericResource{Properties: map[string]any{"category": "Cost", "amount": 1, "timeGrain": "Weekly",
			"timePeriod": map[string]any{"startDate": "2026-01-01"}}}, nil); code(err) != "InvalidBudget" {
		t.Errorf("a weekly budget: %v", err)
	}
	locks, _ := armlocks.NewManagementLocksClient(sub, e.admin, e.opts)
	if l, err := locks.GetAtResourceGroupLevel(ctx, name, "vending-do-not-delete", nil); err != nil || *l.Properties.Level != armlocks.LockLevelCanNotDelete {
		t.Errorf("lock: %v", err)
	}

	// The team can deploy into its group, and nothing more.
	teamAccounts, _ := armstorage.NewAccountsClient(sub, e.teams[0], e.opts)
	if _, err := teamAccounts.BeginCreate(ctx, name, "teamadata", armstorage.AccountCreateParameters{Kind: to.Ptr(armstorage.KindStorageV2),
		Location: to.Ptr("westeurope"), SKU: &armstorage.SKU{Name: to.Ptr(armstorage.SKUNameStandardLRS)}}, nil); err != nil {
		t.Fatalf("the team deploys into its group: %v", err)
	}
	// (Polling the operation needs Microsoft.Storage/locations/asyncoperations/read
	// at the subscription, which Steward checks against the team's
	// group-scoped role; the account itself is read back by its ID.)
	if _, err := teamAccounts.GetProperties(ctx, name, "teamadata", nil); err != nil {
		t.Fatalf("the team reads its account: %v", err)
	}
	// The RBAC engine enforces the condition on the data actions: the team
	// writes and reads entities in its account's tables, but deletes none.
	dataOpts := e.s.ARMClientOptions()
	dataOpts.Cloud.Services = map[azcloud.ServiceName]azcloud.ServiceConfiguration{aztables.ServiceName: {Audience: StorageAudience}}
	teamTable, err := aztables.NewClient(strings.TrimSuffix(e.s.BaseURL, "/")+"/tables/teamadata/orders", e.teams[0], &aztables.ClientOptions{ClientOptions: dataOpts})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := teamTable.CreateTable(ctx, nil); err != nil {
		t.Fatalf("the team creates a table: %v", err)
	}
	ent, _ := json.Marshal(aztables.EDMEntity{Entity: aztables.Entity{PartitionKey: "p", RowKey: "1"}})
	if _, err := teamTable.AddEntity(ctx, ent, nil); err != nil {
		t.Fatalf("the team writes an entity: %v", err)
	}
	if _, err := teamTable.GetEntity(ctx, "p", "1", nil); err != nil {
		t.Fatalf("the team reads an entity: %v", err)
	}
	if _, err := teamTable.DeleteEntity(ctx, "p", "1", nil); code(err) != "AuthorizationPermissionMismatch" {
		t.Errorf("the condition lets the team delete an entity: %v", err)
	}
	teamRGs, _ := armresources.NewResourceGroupsClient(sub, e.teams[0], e.opts)
	if _, err := teamRGs.CreateOrUpdate(ctx, "rogue", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); code(err) != "AuthorizationFailed" {
		t.Errorf("the team creates a group itself: %v", err)
	}
	if _, err := teamRGs.BeginDelete(ctx, name, nil); err == nil {
		t.Error("the team deletes its locked group")
	}

	// A step that fails undoes what the request created: team b's
	// subscription now assigns a policy that does not exist.
	cat := e.admin2(t, http.MethodGet, vending.CatalogPath, nil, http.StatusOK)
	var subB vending.Subscription
	for _, raw := range cat["subscriptions"].([]any) {
		if m := raw.(map[string]any); m["subscriptionId"] == e.subs[1] {
			b, _ := json.Marshal(m)
			_ = json.Unmarshal(b, &subB)
		}
	}
	subB.Policies = append(subB.Policies, vending.PolicyAssignment{Name: "missing", DefinitionID: "/subscriptions/" + e.subs[1] + "/providers/Microsoft.Authorization/policyDefinitions/missing"})
	e.admin2(t, http.MethodPut, vending.CatalogPath+"/subscriptions", subB, http.StatusOK)
	bad := vending.Request{SubscriptionID: e.subs[1], Name: "api", Environment: "test", CostCenter: "cc2", Region: "westeurope", Tags: map[string]string{"Owner": "team-b"}}
	st, h, _ = e.call(t, e.teams[1], http.MethodPost, "/vending/v1/resourceGroups", bad, nil)
	if st != http.StatusAccepted {
		t.Fatalf("team b's request: %d", st)
	}
	e.plane.Public.Wait()
	_, _, rec = e.call(t, e.teams[1], http.MethodGet, h.Get("Location"), nil, nil)
	if errObj, _ := rec["error"].(map[string]any); rec["status"] != vending.StatusFailed || !strings.Contains(errObj["message"].(string), "policy assignment missing") {
		t.Fatalf("failed request: %v", rec)
	}
	rgsB, _ := armresources.NewResourceGroupsClient(e.subs[1], e.admin, e.opts)
	if ok, err := rgsB.CheckExistence(ctx, "rg-test-cc2-api-westeurope", nil); err != nil || ok.Success {
		t.Fatalf("the group of a failed request is left behind: %v %v", ok.Success, err)
	}
	rasB, _ := armauthorization.NewRoleAssignmentsClient(e.subs[1], e.admin, e.opts)
	for pb := rasB.NewListForSubscriptionPager(nil); pb.More(); {
		page, err := pb.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ra := range page.Value {
			if strings.Contains(strings.ToLower(*ra.Properties.Scope), "rg-test-cc2-api") {
				t.Fatalf("role assignment left behind: %s", *ra.ID)
			}
		}
	}

	// A team's token is refused by the internal API.
	for _, p := range []string{vending.ValetKeyPath, vending.ExecutionTokenPath, vending.CatalogPath + "/subscriptions"} {
		if st, _, out := e.call(t, e.teams[0], http.MethodPost, p, map[string]string{}, nil); st != http.StatusForbidden {
			t.Errorf("team at %s: %d %v", p, st, out)
		}
	}

	// The public identity can read neither a vault nor a storage key.
	pubCred, err := azidentity.NewClientSecretCredential(e.s.Bootstrap.TenantID, e.plane.PublicIdentity.AppID, e.plane.PublicIdentity.secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: e.s.ARMClientOptions(), DisableInstanceDiscovery: true, AdditionallyAllowedTenants: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	pubAccounts, _ := armstorage.NewAccountsClient(e.s.Bootstrap.SubscriptionID, pubCred, e.opts)
	if _, err := pubAccounts.ListKeys(ctx, VendingResourceGroup, VendingAccount, nil); code(err) != "AuthorizationFailed" {
		t.Errorf("public identity lists keys: %v", err)
	}
	for i, sub := range e.subs {
		vaultURL := "https://exec-kv-" + sub[:8] + ".vault.azure.net"
		vopts := e.s.ARMClientOptions()
		kc, _ := azkeys.NewClient(vaultURL, pubCred, &azkeys.ClientOptions{ClientOptions: vopts})
		digest := make([]byte, 32)
		// In its own tenant the vault refuses it (403); in the other tenant
		// it has no service principal, so it gets no token at all.
		refused := func(err error) bool {
			if i == 0 {
				return code(err) == "Forbidden"
			}
			return err != nil && strings.Contains(err.Error(), "AADSTS700016")
		}
		if _, err := kc.Sign(ctx, "exec", "", azkeys.SignParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmPS256), Value: digest}, nil); !refused(err) {
			t.Errorf("public identity signs with execution context %d's key: %v", i, err)
		}
		cc, _ := azcertificates.NewClient(vaultURL, pubCred, &azcertificates.ClientOptions{ClientOptions: vopts})
		if _, err := cc.GetCertificate(ctx, "exec", "", nil); !refused(err) {
			t.Errorf("public identity reads execution context %d's certificate: %v", i, err)
		}
		// The key never leaves the vault, not even for the administrator.
		ac, _ := azsecrets.NewClient(vaultURL, e.admin, &azsecrets.ClientOptions{ClientOptions: vopts})
		if sec, err := ac.GetSecret(ctx, "exec", "", nil); err == nil && sec.Value != nil && strings.Contains(*sec.Value, "PRIVATE KEY") {
			t.Errorf("execution context %d's private key is exportable", i)
		}
		// The internal API signs in as the execution context of the
		// subscription's own tenant.
		tok, err := e.plane.Internal.ExecutionToken(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		if c := jwtClaims(t, tok.Token); c["tid"] != e.tenants[i] || c["appid"] != e.execApps[i] || c["appidacr"] != "2" {
			t.Errorf("execution token of %s: tid %v appid %v appidacr %v", sub, c["tid"], c["appid"], c["appidacr"])
		}
	}

	// A valet key reads the catalog, and is refused once expired; it never
	// writes the catalog.
	key, err := e.plane.Internal.ValetKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	topts := e.plane.Public.Tables
	if _, err := vending.ReadCatalog(ctx, key.Open(topts)); err != nil {
		t.Fatal(err)
	}
	tc, _ := key.Open(topts)(vending.TableSubscriptions)
	b, _ := json.Marshal(aztables.Entity{PartitionKey: "subscription", RowKey: "x"})
	if _, err := tc.AddEntity(ctx, b, nil); code(err) != "AuthorizationPermissionMismatch" {
		t.Errorf("valet key writes the catalog: %v", err)
	}
	// A key issued ten minutes ago (no request is in flight now).
	e.plane.Internal.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) }
	expired, err := e.plane.Internal.ValetKey(ctx)
	e.plane.Internal.Now = nil
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vending.ReadCatalog(ctx, expired.Open(topts)); code(err) != "AuthenticationFailed" {
		t.Errorf("expired valet key: %v", err)
	}
}

// jwtClaims decodes a JWT's claims without checking it.
func jwtClaims(t testing.TB, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.20s", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
