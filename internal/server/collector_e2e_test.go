package server

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azcertificates"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/collector"
	"github.com/steward-gov/steward/internal/rbac"
)

// seedActor is a service principal of some tenant with SDK clients.
type seedActor struct {
	id, tenant       string
	clientID, secret string
	opts             *azarm.ClientOptions
	res              func(sub string) *armresources.Client
	principal        collector.Principal
}

func (ce *collectorEnv) actor(t *testing.T, tenantName, appName string) seedActor {
	t.Helper()
	ctx := context.Background()
	tn, err := ce.s.Identity.CreateTenant(ctx, tenantName)
	if err != nil {
		t.Fatal(err)
	}
	app, sp, err := ce.s.Identity.CreateApplication(ctx, tn.ID, appName)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := ce.s.Identity.AddClientSecret(ctx, tn.ID, app.AppID, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	o := ce.s.ARMClientOptions()
	cred, err := azidentity.NewClientSecretCredential(tn.ID, app.AppID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: o, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := &azarm.ClientOptions{ClientOptions: o}
	return seedActor{id: sp.ID, tenant: tn.ID, clientID: app.AppID, secret: secret, opts: opts, principal: collector.Principal{Name: app.AppID, Credential: cred},
		res: func(sub string) *armresources.Client {
			c, err := armresources.NewClient(sub, cred, opts)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}}
}

// subscription makes a subscription of the owner's tenant, owned by it.
func (ce *collectorEnv) subscription(t *testing.T, id string, owner seedActor) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := ce.s.Cloud.CreateSubscription(ctx, nil, cloud.Subscription{ID: id, DisplayName: id[:8], TenantID: owner.tenant}); err != nil {
		t.Fatal(err)
	}
	if err := ce.s.Cloud.EnsureOwner(ctx, "/subscriptions/"+id, owner.id, "ServicePrincipal"); err != nil {
		t.Fatal(err)
	}
}

var poll = runtime.PollUntilDoneOptions{Frequency: time.Millisecond}

func put(t *testing.T, c *armresources.Client, id, apiVersion string, r armresources.GenericResource) armresources.GenericResource {
	t.Helper()
	p, err := c.BeginCreateOrUpdateByID(context.Background(), id, apiVersion, r, nil)
	if err != nil {
		t.Fatalf("PUT %s: %v", id, err)
	}
	res, err := p.PollUntilDone(context.Background(), &poll)
	if err != nil {
		t.Fatalf("PUT %s: %v", id, err)
	}
	return res.GenericResource
}

// seedApp is one of the world's managed applications.
type seedApp struct {
	sub, name string
	owner     seedActor
	tags      map[string]any
}

func (a seedApp) id() string {
	return "/subscriptions/" + a.sub + "/resourceGroups/apps/providers/Microsoft.Solutions/applications/" + a.name
}

func (a seedApp) mrg() string { return "/subscriptions/" + a.sub + "/resourceGroups/mrg-" + a.name }

// seedWorld is a publisher tenant with its definition, and two customer
// tenants with three applications of it; app1's resource has no env tag.
type seedWorld struct {
	pub, custA, custB seedActor
	defID             string
	deployed          []seedApp
}

const (
	pubSub = "11111111-1111-4111-8111-111111111111"
	subA   = "22222222-2222-4222-8222-222222222222"
	subB   = "33333333-3333-4333-8333-333333333333"
)

func newSeedWorld(t *testing.T, ce *collectorEnv, before func(w *seedWorld)) *seedWorld {
	t.Helper()
	w := &seedWorld{}
	w.pub = ce.actor(t, "Contoso Publisher", "contoso-collector")
	w.custA = ce.actor(t, "Fabrikam", "fabrikam-ops")
	w.custB = ce.actor(t, "Northwind", "northwind-ops")
	pub, custA, custB := w.pub, w.custA, w.custB
	ce.subscription(t, pubSub, pub)
	ce.subscription(t, subA, custA)
	ce.subscription(t, subB, custB)
	before(w)

	// The publisher's definition: a network security group tagged from a
	// parameter, the audit-env-tag policy, the publisher's authorization,
	// and Steward's collector endpoint for notifications.
	for _, g := range []struct {
		sub string
		a   seedActor
		rg  string
	}{{pubSub, pub, "offers"}, {subA, custA, "apps"}, {subB, custB, "apps"}} {
		put(t, g.a.res(g.sub), "/subscriptions/"+g.sub+"/resourceGroups/"+g.rg, "2021-04-01", armresources.GenericResource{Location: to.Ptr("westeurope")})
	}
	w.defID = "/subscriptions/" + pubSub + "/resourceGroups/offers/providers/Microsoft.Solutions/applicationDefinitions/contoso-app"
	tmpl := map[string]any{
		"$schema":        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion": "1.0.0.0",
		"parameters":     map[string]any{"tags": map[string]any{"type": "object"}},
		"resources": []any{map[string]any{
			"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "nsg",
			"location": "[resourceGroup().location]", "tags": "[parameters('tags')]",
			"properties": map[string]any{"securityRules": []any{}}}},
	}
	put(t, pub.res(pubSub), w.defID, collector.SolutionsAPIVersion, armresources.GenericResource{Location: to.Ptr("westeurope"), Properties: map[string]any{
		"lockLevel": "ReadOnly", "displayName": "Contoso app", "mainTemplate": tmpl,
		"createUiDefinition": map[string]any{"handler": "Microsoft.Azure.CreateUIDef", "version": "0.1.2-preview", "parameters": map[string]any{}},
		"authorizations":     []any{map[string]any{"principalId": pub.id, "roleDefinitionId": rbac.ContributorRoleID}},
		"policies": []any{map[string]any{"name": "audit-env-tag", "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/0a914e76-4921-4c19-b460-a2d36003525a",
			"parameters": `{"tagName":{"value":"env"}}`}},
		"notificationPolicy": map[string]any{"notificationEndpoints": []any{map[string]any{"uri": strings.TrimSuffix(ce.s.BaseURL, "/") + "/collector?sig=s3cret"}}},
	}})

	// The customers may read the definition they deploy (Azure's rule for
	// service-catalog definitions).
	for _, c := range []seedActor{custA, custB} {
		doc := rbac.RoleAssignmentDocument(w.defID, rbac.ReaderRoleID, c.id, "ServicePrincipal")
		id, _ := doc["id"].(string)
		if _, _, err := ce.s.Cloud.Put(context.Background(), nil, cloud.PutRequest{ID: id, Type: cloud.TypeRoleAssignment, Doc: doc}); err != nil {
			t.Fatal(err)
		}
	}

	// Three applications in two customer tenants; app1's resource has no
	// env tag.
	w.deployed = []seedApp{{subA, "app1", custA, map[string]any{}}, {subA, "app2", custA, map[string]any{"env": "prod"}}, {subB, "app3", custB, map[string]any{"env": "prod"}}}
	for _, a := range w.deployed {
		put(t, a.owner.res(a.sub), a.id(), collector.SolutionsAPIVersion, armresources.GenericResource{
			Location: to.Ptr("westeurope"), Kind: to.Ptr("ServiceCatalog"), Properties: map[string]any{
				"applicationDefinitionId": w.defID, "managedResourceGroupId": a.mrg(),
				"parameters": map[string]any{"tags": map[string]any{"value": a.tags}}}})
	}

	return w
}

// TestSeed000CollectorEndToEnd is seed 000 in one process: a publisher
// tenant and two customer tenants; three managed applications deployed
// from the publisher's definition, whose notifications register them with
// the collector; a policy the definition ships violated in one of them;
// the collector's rows in PolicyComplianceStates_CL; the default alert
// fires to a webhook; the resource is fixed; the next collection resolves
// the alert.
func TestSeed000CollectorEndToEnd(t *testing.T) {
	ce := newCollectorEnv(t)
	ctx := context.Background()
	w := newSeedWorld(t, ce, func(w *seedWorld) {
		// The collector reads as the publisher's principal, in every tenant.
		apps, err := collector.NewApplications(w.pub.principal.Credential, w.pub.opts)
		if err != nil {
			t.Fatal(err)
		}
		ce.plane.SetNotifications(&collector.Notifications{Sig: "s3cret", Apps: apps, Inventory: ce.inventory, Now: ce.clock.Now})
		// The collector signs in as the publisher's principal with a
		// certificate whose key stays in the vault and signs there.
		ctx := context.Background()
		vaultURL := "https://" + DefaultVaultName + ".vault.azure.net"
		certs, err := azcertificates.NewClient(vaultURL, ce.cred, &azcertificates.ClientOptions{ClientOptions: ce.opts})
		if err != nil {
			t.Fatal(err)
		}
		keys, err := azkeys.NewClient(vaultURL, ce.cred, &azkeys.ClientOptions{ClientOptions: ce.opts})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := certs.CreateCertificate(ctx, "publisher-collector", azcertificates.CreateCertificateParameters{CertificatePolicy: &azcertificates.CertificatePolicy{
			IssuerParameters:          &azcertificates.IssuerParameters{Name: to.Ptr("Self")},
			KeyProperties:             &azcertificates.KeyProperties{Exportable: to.Ptr(false), KeyType: to.Ptr(azcertificates.KeyTypeRSA)},
			X509CertificateProperties: &azcertificates.X509CertificateProperties{Subject: to.Ptr("CN=publisher-collector")},
		}}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := ce.vault.Service.AddCertificateCredential(ctx, ce.s.Identity, ce.vault.Default, "publisher-collector", "", w.pub.tenant, w.pub.clientID); err != nil {
			t.Fatal(err)
		}
		signer, err := collector.CertificatePrincipal(collector.VaultCertificate{TenantID: w.pub.tenant, ClientID: w.pub.clientID,
			Keys: keys, Certificates: certs, Certificate: "publisher-collector", AuthorityHost: ce.s.BaseURL}, ce.s.ARMClientOptions())
		if err != nil {
			t.Fatal(err)
		}
		ce.coll, err = collector.New(collector.Options{Store: ce.s.Store, Inventory: ce.inventory, ARM: *w.pub.opts,
			Principal: func(string) (collector.Principal, error) { return signer, nil },
			Upload:    ce.collOpts.Upload, Verify: ce.collOpts.Verify, Now: ce.clock.Now, Concurrency: 2})
		if err != nil {
			t.Fatal(err)
		}
	})
	pub, deployed := w.pub, w.deployed
	appID := func(a seedApp) string { return a.id() }
	mrgOf := func(a seedApp) string { return a.mrg() }

	// The notifications register all three (Steward's outbox delivers them
	// in the background).
	deadline := time.Now().Add(30 * time.Second)
	for {
		deps, err := ce.inventory.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range deps {
			if d.Collectable() {
				n++
			}
		}
		if n == 3 {
			for _, d := range deps {
				if d.ManagedResourceGroupID == "" || !strings.HasPrefix(strings.ToLower(d.ManagedResourceGroupID), "/subscriptions/"+d.SubscriptionID+"/resourcegroups/mrg-") {
					t.Errorf("deployment %+v", d)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the notifications registered %d collectable deployments: %+v", n, deps)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A notification delivered twice changes nothing the second time, and
	// a retry of an older event arriving late never rolls the record back.
	a1 := deployed[0]
	pk1, rk1 := collector.Deployment{SubscriptionID: a1.sub, ResourceGroup: "apps", Name: a1.name}.Key()
	before, err := ce.inventory.Get(ctx, pk1, rk1)
	if err != nil {
		t.Fatal(err)
	}
	later := before.LastEventTime.Add(time.Minute).UTC()
	patch := map[string]any{"eventType": "PATCH", "applicationId": a1.id(), "eventTime": later.Format(time.RFC3339Nano), "provisioningState": "Succeeded"}
	stale := map[string]any{"eventType": "PUT", "applicationId": a1.id(), "eventTime": before.LastEventTime.Add(-time.Hour).UTC().Format(time.RFC3339Nano),
		"provisioningState": "Accepted"}
	for i, ev := range []map[string]any{patch, patch, stale} {
		if code, out := ce.notify(t, "s3cret", ev); code != 200 {
			t.Fatalf("notification %d: %d %v", i, code, out)
		}
		got, err := ce.inventory.Get(ctx, pk1, rk1)
		if err != nil || got.LastEventType != "PATCH" || !got.LastEventTime.Equal(later) || got.ProvisioningState != collector.StateSucceeded {
			t.Fatalf("after notification %d: %+v %v", i, got, err)
		}
	}
	if deps, err := ce.inventory.List(ctx); err != nil || len(deps) != 3 {
		t.Fatalf("the inventory after repeated notifications: %d records %v", len(deps), err)
	}

	// Reconciliation repairs what notifications missed: a record of an
	// application the publisher can no longer read (ARM answers 403 for a
	// deleted customer application: the grant went with it) stops being
	// collected; the others are read again.
	apps, err := collector.NewApplications(w.pub.principal.Credential, w.pub.opts)
	if err != nil {
		t.Fatal(err)
	}
	ghost := collector.Deployment{ApplicationID: "/subscriptions/" + subA + "/resourceGroups/apps/providers/Microsoft.Solutions/applications/gone",
		SubscriptionID: subA, ResourceGroup: "apps", Name: "gone", ManagedResourceGroupID: "/subscriptions/" + subA + "/resourceGroups/mrg-gone",
		ProvisioningState: collector.StateSucceeded}
	if err := ce.inventory.Put(ctx, ghost); err != nil {
		t.Fatal(err)
	}
	// And an application whose notifications never came: app2's record
	// is dropped; listing the applications the publisher can see finds it
	// again.
	pk2, rk2 := collector.Deployment{SubscriptionID: subA, ResourceGroup: "apps", Name: "app2"}.Key()
	if err := ce.inventory.Delete(ctx, pk2, rk2); err != nil {
		t.Fatal(err)
	}
	rec, err := collector.Reconcile(ctx, apps, ce.inventory, ce.clock.Now)
	if err != nil || rec.Known != 3 || rec.Updated != 1 || rec.Added != 1 {
		t.Fatalf("reconcile: %+v %v", rec, err)
	}
	if d, err := ce.inventory.Get(ctx, pk2, rk2); err != nil || !d.Collectable() || d.LastEventType != "Reconcile" {
		t.Fatalf("app2 after reconcile: %+v %v", d, err)
	}
	pk, rk := ghost.Key()
	if g, err := ce.inventory.Get(ctx, pk, rk); err != nil || g.ProvisioningState != collector.StateInaccessible || g.Collectable() {
		t.Fatalf("the vanished application after reconcile: %+v %v", g, err)
	}

	// The default alert rule, notifying a webhook.
	hook := &hookRecorder{}
	receiver := httptest.NewServer(hook)
	t.Cleanup(receiver.Close)
	groups, err := armmonitor.NewActionGroupsClient(ce.sub, ce.cred, ce.armOpts)
	if err != nil {
		t.Fatal(err)
	}
	group, err := groups.CreateOrUpdate(ctx, "publisher", "publisher-oncall", armmonitor.ActionGroupResource{
		Location: to.Ptr("Global"), Properties: &armmonitor.ActionGroup{GroupShortName: to.Ptr("oncall"), Enabled: to.Ptr(true),
			WebhookReceivers: []*armmonitor.WebhookReceiver{{Name: to.Ptr("ticketing"), ServiceURI: to.Ptr(receiver.URL + "/alerts"), UseCommonAlertSchema: to.Ptr(true)}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := collector.EnsureAlertRule(ctx, ce.cred, ce.armOpts, collector.AlertRule{SubscriptionID: ce.sub, ResourceGroup: "publisher",
		Name: "managed-app-noncompliant", Location: "eastus", Workspace: ce.workspace, ActionGroups: []string{*group.ID},
		Window: time.Hour, Frequency: 5 * time.Minute}); err != nil {
		t.Fatalf("alert rule: %v", err)
	}

	// Policy Insights evaluates in the background, as Azure does (there
	// within about 15 minutes of a write): wait for the states.
	states, err := armpolicyinsights.NewPolicyStatesClient(ce.cred, ce.armOpts)
	if err != nil {
		t.Fatal(err)
	}
	waitState := func(mrg, want string) {
		t.Helper()
		_, rg, _ := strings.Cut(mrg, "/resourceGroups/")
		sub := strings.Split(mrg, "/")[2]
		deadline := time.Now().Add(30 * time.Second)
		for {
			p := states.NewListQueryResultsForResourceGroupPager(armpolicyinsights.PolicyStatesResourceLatest, sub, rg, nil, nil)
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Value) > 0 && page.Value[0].ComplianceState != nil && *page.Value[0].ComplianceState == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never became %s", mrg, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for i, a := range deployed {
		waitState(mrgOf(a), map[bool]string{true: "NonCompliant", false: "Compliant"}[i == 0])
	}

	// First collection.
	t0 := ce.clock.Now().UTC().Truncate(5 * time.Minute).Add(5 * time.Minute)
	ce.clock.Set(t0)
	run, err := ce.coll.RunOnce(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if run.Deployments != 3 || run.Collected != 3 || run.Failed != 0 || run.Rows == 0 || run.Uploaded != run.Batches {
		t.Fatalf("first run: %+v", run)
	}
	got := ce.rows(t, `PolicyComplianceStates_CL | where RunId == '`+run.ID+`' | summarize n = count() by ApplicationId, ComplianceState, TenantId | sort by ApplicationId asc`)
	want := map[string]string{"app1": "NonCompliant", "app2": "Compliant", "app3": "Compliant"}
	tenantOf := map[string]string{"app1": w.custA.tenant, "app2": w.custA.tenant, "app3": w.custB.tenant}
	if len(got) != 3 {
		t.Fatalf("rows of the first run: %v", got)
	}
	for _, r := range got {
		id, _ := r[0].(string)
		name := id[strings.LastIndex(id, "/")+1:]
		if want[name] != r[1] {
			t.Errorf("%s: %v, want %s", name, r[1], want[name])
		}
		// The customer's tenant: the tenant of the application's
		// subscription, never the publisher's or Steward's home tenant.
		if wantTenant := tenantOf[name]; r[2] != wantTenant || wantTenant == ce.info.TenantID || wantTenant == pub.tenant {
			t.Errorf("%s: tenant %v, want %s", name, r[2], wantTenant)
		}
	}
	// Row by row: each carries its application's customer tenant and
	// subscription.
	perRow := ce.rows(t, `PolicyComplianceStates_CL | where RunId == '`+run.ID+`' | project ApplicationId, TenantId, SubscriptionId`)
	if len(perRow) == 0 {
		t.Fatal("no rows in the first run")
	}
	for _, r := range perRow {
		id, _ := r[0].(string)
		name := id[strings.LastIndex(id, "/")+1:]
		sub := map[string]string{"app1": subA, "app2": subA, "app3": subB}[name]
		if r[1] != tenantOf[name] || !strings.EqualFold(r[2].(string), sub) {
			t.Errorf("row of %s: tenant %v subscription %v, want %s %s", name, r[1], r[2], tenantOf[name], sub)
		}
	}
	if dup := ce.rows(t, `PolicyComplianceStates_CL | summarize n = count() by RecordId | where n > 1`); len(dup) != 0 {
		t.Errorf("duplicated rows: %v", dup)
	}

	// The dashboard's queries: Fabrikam has app1 (non-compliant) and
	// app2, Northwind app3; one resource each.
	byTenant := map[string]string{}
	for _, r := range ce.rows(t, collector.ComplianceByTenant) {
		byTenant[r[0].(string)] = fmt.Sprint(r[1:]...)
	}
	if want := map[string]string{w.custA.tenant: fmt.Sprint(2.0, 1.0, 50.0), w.custB.tenant: fmt.Sprint(1.0, 0.0, 100.0)}; !reflect.DeepEqual(byTenant, want) {
		t.Errorf("compliance by tenant: %v, want %v", byTenant, want)
	}
	byApp := ce.rows(t, collector.ComplianceByApplication)
	if len(byApp) != 3 || !strings.EqualFold(byApp[0][0].(string), appID(deployed[0])) || byApp[0][2] != 1.0 || byApp[1][2] != 0.0 {
		t.Errorf("compliance by application: %v", byApp)
	}
	if trend := ce.rows(t, collector.ComplianceTrend); len(trend) != 1 || trend[0][1] != 1.0 || trend[0][2] != 3.0 {
		t.Errorf("trend: %v", trend)
	}

	tick := func(at time.Time) {
		t.Helper()
		ce.clock.Set(at)
		if err := ce.alerts.Tick(ctx); err != nil {
			t.Fatalf("tick at %s: %v", at, err)
		}
	}
	tick(t0.Add(5*time.Minute + 10*time.Second))
	fired := hook.delivered()
	if len(fired) != 1 {
		t.Fatalf("after the first collection: %d notifications, want 1", len(fired))
	}
	ess := fired[0].body["data"].(map[string]any)["essentials"].(map[string]any)
	cond := fired[0].body["data"].(map[string]any)["alertContext"].(map[string]any)["condition"].(map[string]any)["allOf"].([]any)[0].(map[string]any)
	dims := map[string]any{}
	for _, d := range cond["dimensions"].([]any) {
		dims[d.(map[string]any)["name"].(string)] = d.(map[string]any)["value"]
	}
	if ess["monitorCondition"] != "Fired" || !strings.EqualFold(dims["ApplicationId"].(string), appID(deployed[0])) ||
		!strings.HasSuffix(strings.ToLower(dims["PolicyAssignmentId"].(string)), "/policyassignments/audit-env-tag") {
		t.Fatalf("fired: %v dimensions %v", ess, dims)
	}

	// The publisher fixes the resource in the customer's managed resource
	// group (the customer is kept out by the deny assignment).
	put(t, pub.res(subA), mrgOf(deployed[0])+"/providers/Microsoft.Network/networkSecurityGroups/nsg", "2022-07-01", armresources.GenericResource{
		Location: to.Ptr("westeurope"), Tags: map[string]*string{"env": to.Ptr("prod")}, Properties: map[string]any{"securityRules": []any{}}})

	waitState(mrgOf(deployed[0]), "Compliant")

	// The next collection; the alert resolves.
	ce.clock.Set(t0.Add(7 * time.Minute))
	run2, err := ce.coll.RunOnce(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if run2.ID == run.ID || run2.Collected != 3 || run2.Failed != 0 {
		t.Fatalf("second run: %+v", run2)
	}
	if nc := ce.rows(t, `PolicyComplianceStates_CL | where RunId == '`+run2.ID+`' and ComplianceState != 'Compliant'`); len(nc) != 0 {
		t.Fatalf("non-compliant rows after the fix: %v", nc)
	}
	at := t0.Add(10*time.Minute + 10*time.Second)
	for i := 0; i < 12 && len(hook.delivered()) < 2; i++ {
		tick(at)
		at = at.Add(5 * time.Minute)
	}
	all := hook.delivered()
	if len(all) != 2 {
		t.Fatalf("after the fix: %d notifications, want 2 (fired, resolved)", len(all))
	}
	if ess := all[1].body["data"].(map[string]any)["essentials"].(map[string]any); ess["monitorCondition"] != "Resolved" {
		t.Fatalf("second notification: %v", ess)
	}

	// A crash right after a batch was sent, before the outbox knew: the
	// replica that takes the batch over finds it in the table (the batch
	// was marked as being sent first) and does not send it again.
	crashCtx, crash := context.WithCancel(ctx)
	sends := 0
	opts := ce.collOpts
	opts.Owner, opts.OutboxLease = "replica-a", time.Second
	opts.Principal = func(string) (collector.Principal, error) { return pub.principal, nil } // a secret credential here
	opts.ARM = *pub.opts
	opts.Upload = func(c context.Context, body []byte) error {
		err := ce.collOpts.Upload(c, body)
		sends++
		crash()
		return err
	}
	a, err := collector.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ce.clock.Set(t0.Add(20 * time.Minute))
	if _, err := a.RunOnce(crashCtx, true); err == nil {
		t.Fatal("the crashed replica finished its run")
	}
	cur, err := a.Current(ctx)
	if err != nil || cur.Done || sends != 1 {
		t.Fatalf("after the crash: %+v %v, %d sends", cur, err, sends)
	}
	opts.Owner, opts.Upload = "replica-b", ce.collOpts.Upload
	b, err := collector.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	run3, err := b.RunOnce(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if run3.ID != cur.ID || !run3.Done || run3.Uploaded != run3.Batches || run3.Collected != 3 {
		t.Fatalf("the run the second replica finished: %+v (crashed in %s)", run3, cur.ID)
	}
	n := ce.rows(t, `PolicyComplianceStates_CL | where RunId == '`+run3.ID+`' | count`)
	if len(n) != 1 || n[0][0] != float64(run3.Rows) {
		t.Fatalf("rows of the resumed run: %v, want %d", n, run3.Rows)
	}
	if dup := ce.rows(t, `PolicyComplianceStates_CL | summarize n = count() by RecordId | where n > 1`); len(dup) != 0 {
		t.Errorf("duplicated rows after the crash: %v", dup)
	}

	// The customer deletes app3: Steward's DELETE notifications reach the
	// endpoint, whose GET no longer sees the application, and the record
	// goes.
	app3 := deployed[2]
	p, err := app3.owner.res(app3.sub).BeginDeleteByID(ctx, app3.id(), collector.SolutionsAPIVersion, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollUntilDone(ctx, &poll); err != nil {
		t.Fatal(err)
	}
	pk, rk = collector.Deployment{SubscriptionID: app3.sub, ResourceGroup: "apps", Name: app3.name}.Key()
	for deadline := time.Now().Add(30 * time.Second); ; {
		_, err := ce.inventory.Get(ctx, pk, rk)
		if errors.Is(err, collector.ErrNoDeployment) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("app3 is still recorded after its deletion: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
