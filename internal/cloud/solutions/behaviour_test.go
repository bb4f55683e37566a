package solutions_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/steward-gov/steward/internal/cloud/solutions"
	"github.com/steward-gov/steward/internal/rbac"
)

// putDefinition publishes a definition in the publisher's group, shared
// with the customer, and returns its ID.
func (w *world) putDefinition(t testing.TB, name string, props map[string]any) string {
	t.Helper()
	ctx := context.Background()
	id := "/subscriptions/" + pubSub + "/resourceGroups/offers/providers/Microsoft.Solutions/applicationDefinitions/" + name
	p, err := w.publisher.resources(t, pubSub).BeginCreateOrUpdateByID(ctx, id, apiVersion,
		armresources.GenericResource{Location: to.Ptr("westeurope"), Properties: props}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollUntilDone(ctx, &runtimePoll); err != nil {
		t.Fatal(err)
	}
	w.grant(t, id, rbac.ReaderRoleID, w.customer.id)
	return id
}

// appFrom creates an application from a definition as the customer.
func (w *world) appFrom(t testing.TB, defID, name, kind string, plan *armresources.Plan) (armresources.GenericResource, error) {
	t.Helper()
	ctx := context.Background()
	id := "/subscriptions/" + custSub + "/resourceGroups/apps/providers/Microsoft.Solutions/applications/" + name
	p, err := w.customer.resources(t, custSub).BeginCreateOrUpdateByID(ctx, id, apiVersion, armresources.GenericResource{
		Location: to.Ptr("westeurope"), Kind: to.Ptr(kind), Plan: plan,
		Properties: map[string]any{
			"applicationDefinitionId": defID,
			"managedResourceGroupId":  "/subscriptions/" + custSub + "/resourceGroups/mrg-" + name,
			"parameters":              map[string]any{"nsgName": map[string]any{"value": "nsg-" + name}},
		}}, nil)
	if err != nil {
		return armresources.GenericResource{}, err
	}
	res, err := p.PollUntilDone(ctx, &runtimePoll)
	return res.GenericResource, err
}

func TestDefinitionValidation(t *testing.T) {
	w := newWorld(t, 0, "None")
	ctx := context.Background()
	base := func() map[string]any {
		return map[string]any{"lockLevel": "ReadOnly", "mainTemplate": mainTemplate()}
	}
	cases := []struct {
		name   string
		change func(map[string]any)
		code   string
	}{
		{"no lock level", func(p map[string]any) { delete(p, "lockLevel") }, "InvalidRequestContent"},
		{"unknown lock level", func(p map[string]any) { p["lockLevel"] = "Frozen" }, "InvalidRequestContent"},
		{"no package", func(p map[string]any) { delete(p, "mainTemplate") }, "InvalidRequestContent"},
		{"package only by URI", func(p map[string]any) {
			delete(p, "mainTemplate")
			p["packageFileUri"] = "https://example.invalid/app.zip"
		}, "PackageFileUriNotSupported"},
		{"template not an object", func(p map[string]any) { p["mainTemplate"] = "{}" }, "InvalidRequestContent"},
		{"principal not a GUID", func(p map[string]any) {
			p["authorizations"] = []any{map[string]any{"principalId": "publisher", "roleDefinitionId": rbac.OwnerRoleID}}
		}, "InvalidRequestContent"},
		{"role not a GUID", func(p map[string]any) {
			p["authorizations"] = []any{map[string]any{"principalId": w.publisher.id, "roleDefinitionId": "Owner"}}
		}, "InvalidRequestContent"},
		{"two endpoints", func(p map[string]any) {
			p["notificationPolicy"] = map[string]any{"notificationEndpoints": []any{
				map[string]any{"uri": "https://a.example/x"}, map[string]any{"uri": "https://b.example/x"}}}
		}, "InvalidRequestContent"},
		{"relative endpoint", func(p map[string]any) {
			p["notificationPolicy"] = map[string]any{"notificationEndpoints": []any{map[string]any{"uri": "/hooks"}}}
		}, "InvalidRequestContent"},
		{"policy without definition", func(p map[string]any) {
			p["policies"] = []any{map[string]any{"name": "x", "policyDefinitionId": "not-an-id"}}
		}, "InvalidRequestContent"},
		{"policy parameters not JSON", func(p map[string]any) {
			p["policies"] = []any{map[string]any{"name": "x", "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/" + builtinPolicy,
				"parameters": "{nope"}}
		}, "InvalidRequestContent"},
		{"unknown deployment mode", func(p map[string]any) { p["deploymentPolicy"] = map[string]any{"deploymentMode": "Sometimes"} }, "InvalidRequestContent"},
	}
	c := w.publisher.resources(t, pubSub)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			props := base()
			tc.change(props)
			_, err := c.BeginCreateOrUpdateByID(ctx, "/subscriptions/"+pubSub+"/resourceGroups/offers/providers/Microsoft.Solutions/applicationDefinitions/bad",
				apiVersion, armresources.GenericResource{Location: to.Ptr("westeurope"), Properties: props}, nil)
			wantStatus(t, err, http.StatusBadRequest, tc.code)
		})
	}
	// The management mode defaults to Managed and cannot change on update
	// (Azure/azure-cli#29997: an update that omits it is refused).
	props0 := base()
	mid := w.putDefinition(t, "modes", props0)
	props0["managementPolicy"] = map[string]any{"mode": "Unmanaged"}
	_, err := c.BeginCreateOrUpdateByID(ctx, mid, apiVersion, armresources.GenericResource{Location: to.Ptr("westeurope"), Properties: props0}, nil)
	wantStatus(t, err, http.StatusConflict, "ApplicationDefinitionApplicationManagementPolicyLockConflict")
	// The lock level's spelling is canonicalized.
	props := base()
	props["lockLevel"] = "readonly"
	id := w.putDefinition(t, "canon", props)
	got, err := c.GetByID(ctx, id, "2019-07-01", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Properties.(map[string]any); p["lockLevel"] != "ReadOnly" || p["isEnabled"] != true {
		t.Errorf("stored definition: %v", p)
	}
}

func TestApplicationRefusals(t *testing.T) {
	w := newWorld(t, 0, "ReadOnly")
	ctx := context.Background()
	cust := w.customer.resources(t, custSub)
	put := func(name string, res armresources.GenericResource) error {
		_, err := cust.BeginCreateOrUpdateByID(ctx, "/subscriptions/"+custSub+"/resourceGroups/apps/providers/Microsoft.Solutions/applications/"+name,
			apiVersion, res, nil)
		return err
	}
	props := func(mrg string) map[string]any {
		return map[string]any{"applicationDefinitionId": w.defID, "managedResourceGroupId": mrg,
			"parameters": map[string]any{"nsgName": map[string]any{"value": "n"}}}
	}
	sub := "/subscriptions/" + custSub + "/resourceGroups/"
	// The managed resource group must not exist yet.
	err := put("a1", armresources.GenericResource{Location: to.Ptr("westeurope"), Kind: to.Ptr("ServiceCatalog"), Properties: props(sub + "other")})
	wantStatus(t, err, http.StatusConflict, "ManagedResourceGroupAlreadyExists")
	// ... must be in the application's subscription, and not its own group.
	err = put("a2", armresources.GenericResource{Location: to.Ptr("westeurope"), Kind: to.Ptr("ServiceCatalog"),
		Properties: props("/subscriptions/" + pubSub + "/resourceGroups/mrg-a2")})
	wantStatus(t, err, http.StatusBadRequest, "InvalidRequestContent")
	err = put("a3", armresources.GenericResource{Location: to.Ptr("westeurope"), Kind: to.Ptr("ServiceCatalog"), Properties: props(sub + "apps")})
	wantStatus(t, err, http.StatusBadRequest, "InvalidRequestContent")
	// The kind is ServiceCatalog or MarketPlace; MarketPlace needs a plan.
	err = put("a4", armresources.GenericResource{Location: to.Ptr("westeurope"), Kind: to.Ptr("Custom"), Properties: props(sub + "mrg-a4")})
	wantStatus(t, err, http.StatusBadRequest, "InvalidRequestContent")
	err = put("a5", armresources.GenericResource{Location: to.Ptr("westeurope"), Kind: to.Ptr("MarketPlace"), Properties: props(sub + "mrg-a5")})
	wantStatus(t, err, http.StatusBadRequest, "InvalidRequestContent")
	// Steward creates no managed identity for an application.
	err = put("a8", armresources.GenericResource{Location: to.Ptr("westeurope"), Kind: to.Ptr("ServiceCatalog"), Properties: props(sub + "mrg-a8"),
		Identity: &armresources.Identity{Type: to.Ptr(armresources.ResourceIdentityTypeSystemAssigned)}})
	wantStatus(t, err, http.StatusBadRequest, "ManagedIdentityNotSupported")
	// The definition must exist, and the customer must be able to read it.
	missing := props(sub + "mrg-a6")
	missing["applicationDefinitionId"] = "/subscriptions/" + pubSub + "/resourceGroups/offers/providers/Microsoft.Solutions/applicationDefinitions/nope"
	err = put("a6", armresources.GenericResource{Location: to.Ptr("westeurope"), Kind: to.Ptr("ServiceCatalog"), Properties: missing})
	wantStatus(t, err, http.StatusNotFound, "ApplicationDefinitionNotFound")
	private := "/subscriptions/" + pubSub + "/resourceGroups/offers/providers/Microsoft.Solutions/applicationDefinitions/private"
	if p, err := w.publisher.resources(t, pubSub).BeginCreateOrUpdateByID(ctx, private, apiVersion, armresources.GenericResource{
		Location: to.Ptr("westeurope"), Properties: map[string]any{"lockLevel": "None", "mainTemplate": mainTemplate()}}, nil); err != nil {
		t.Fatal(err)
	} else if _, err := p.PollUntilDone(ctx, &runtimePoll); err != nil {
		t.Fatal(err)
	}
	hidden := props(sub + "mrg-a7")
	hidden["applicationDefinitionId"] = private
	err = put("a7", armresources.GenericResource{Location: to.Ptr("westeurope"), Kind: to.Ptr("ServiceCatalog"), Properties: hidden})
	wantStatus(t, err, http.StatusForbidden, "LinkedAuthorizationFailed")
	// None of the refused requests left an application or a group behind.
	for _, g := range []string{"mrg-a2", "mrg-a4", "mrg-a5", "mrg-a6", "mrg-a7", "mrg-a8"} {
		_, err := w.customer.groups(t, custSub).Get(ctx, g, nil)
		wantStatus(t, err, http.StatusNotFound, "ResourceGroupNotFound")
	}
}

func TestFailedDeploymentIsReportedAndNotified(t *testing.T) {
	w := newWorld(t, 0, "ReadOnly")
	tmpl := mainTemplate()
	// A type Steward refuses to store: the deployment fails.
	tmpl["resources"] = append(tmpl["resources"].([]any), map[string]any{
		"type": "Microsoft.Resources/deploymentScripts", "apiVersion": "2023-08-01",
		"name": "script1", "location": "[resourceGroup().location]", "kind": "AzureCLI"})
	def := w.putDefinition(t, "broken", map[string]any{"lockLevel": "ReadOnly", "mainTemplate": tmpl,
		"notificationPolicy": map[string]any{"notificationEndpoints": []any{map[string]any{"uri": w.ep.srv.URL}}}})
	_, err := w.appFrom(t, def, "broken1", "ServiceCatalog", nil)
	if err == nil {
		t.Fatal("the application of a failing template provisioned")
	}
	got, gerr := w.customer.resources(t, custSub).GetByID(context.Background(),
		"/subscriptions/"+custSub+"/resourceGroups/apps/providers/Microsoft.Solutions/applications/broken1", apiVersion, nil)
	if gerr != nil || got.Properties.(map[string]any)["provisioningState"] != "Failed" {
		t.Fatalf("application after a failed deployment: %v %v", got.Properties, gerr)
	}
	evs := w.ep.waitFor(t, "PUT Failed", func(evs []map[string]any) bool { return hasEvent(evs, "PUT", "Failed") })
	for _, e := range evs {
		if e["provisioningState"] != "Failed" {
			continue
		}
		perr, _ := e["error"].(map[string]any)
		if perr["code"] == nil || perr["message"] == nil {
			t.Errorf("PUT Failed without its error: %v", e)
		}
	}
	if w.ep.paths[0] != "/resource" {
		t.Errorf("notification path %q, want /resource", w.ep.paths[0])
	}
}

func TestUnknownRoleFailsProvisioning(t *testing.T) {
	w := newWorld(t, 0, "None")
	def := w.putDefinition(t, "unknown-role", map[string]any{"lockLevel": "None", "mainTemplate": mainTemplate(),
		"authorizations": []any{map[string]any{"principalId": w.publisher.id, "roleDefinitionId": "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"}}})
	_, err := w.appFrom(t, def, "norole", "ServiceCatalog", nil)
	if err == nil {
		t.Fatal("an application whose definition grants an unknown role provisioned")
	}
	got, gerr := w.customer.resources(t, custSub).GetByID(context.Background(),
		"/subscriptions/"+custSub+"/resourceGroups/apps/providers/Microsoft.Solutions/applications/norole", apiVersion, nil)
	if gerr != nil || got.Properties.(map[string]any)["provisioningState"] != "Failed" {
		t.Fatalf("application after an unknown role: %v %v", got.Properties, gerr)
	}
}

func TestDeletingTheApplicationsGroupDeletesTheManagedGroup(t *testing.T) {
	w := newWorld(t, 0, "ReadOnly")
	ctx := context.Background()
	app, err := w.createApp(t, "ingroup", "mrg-ingroup")
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.customer.groups(t, custSub).BeginDelete(ctx, "apps", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollUntilDone(ctx, &runtimePoll); err != nil {
		t.Fatal(err)
	}
	_, err = w.customer.groups(t, custSub).Get(ctx, "mrg-ingroup", nil)
	wantStatus(t, err, http.StatusNotFound, "ResourceGroupNotFound")
	evs := w.ep.waitFor(t, "DELETE Deleting and Deleted", func(evs []map[string]any) bool {
		return hasEvent(evs, "DELETE", "Deleting") && hasEvent(evs, "DELETE", "Deleted")
	})
	n := 0
	for _, e := range evs {
		if e["eventType"] == "DELETE" {
			n++
			if !eqFold(e["applicationId"], *app.ID) {
				t.Errorf("DELETE notification for %v", e["applicationId"])
			}
		}
	}
	if n != 2 {
		t.Errorf("%d DELETE notifications, want Deleting and Deleted once each", n)
	}
}

func TestPatchChangesTagsAndNotifies(t *testing.T) {
	w := newWorld(t, 0, "ReadOnly")
	ctx := context.Background()
	app, err := w.createApp(t, "patched", "mrg-patched")
	if err != nil {
		t.Fatal(err)
	}
	cust := w.customer.resources(t, custSub)
	p, err := cust.BeginUpdateByID(ctx, *app.ID, apiVersion, armresources.GenericResource{Tags: map[string]*string{"costCenter": to.Ptr("cc-1")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.PollUntilDone(ctx, &runtimePoll)
	if err != nil {
		t.Fatal(err)
	}
	props := res.Properties.(map[string]any)
	if res.Tags["costCenter"] == nil || *res.Tags["costCenter"] != "cc-1" || props["provisioningState"] != "Succeeded" || props["outputs"] == nil {
		t.Fatalf("after PATCH: tags %v properties %v", res.Tags, props)
	}
	w.ep.waitFor(t, "PATCH Succeeded", func(evs []map[string]any) bool { return hasEvent(evs, "PATCH", "Succeeded") })
	// Parameters and the managed resource group do not change by PATCH.
	_, err = cust.BeginUpdateByID(ctx, *app.ID, apiVersion, armresources.GenericResource{
		Properties: map[string]any{"parameters": map[string]any{"nsgName": map[string]any{"value": "other"}}}}, nil)
	wantStatus(t, err, http.StatusBadRequest, "InvalidRequestContent")
	_, err = cust.BeginUpdateByID(ctx, *app.ID, apiVersion, armresources.GenericResource{
		Properties: map[string]any{"managedResourceGroupId": "/subscriptions/" + custSub + "/resourceGroups/elsewhere"}}, nil)
	wantStatus(t, err, http.StatusConflict, "ApplicationPropertyCannotBeChanged")
}

func TestLockLevelNoneLeavesTheCustomerIn(t *testing.T) {
	w := newWorld(t, 0, "None")
	ctx := context.Background()
	if _, err := w.createApp(t, "open", "mrg-open"); err != nil {
		t.Fatal(err)
	}
	p, err := w.customer.resources(t, custSub).BeginCreateOrUpdateByID(ctx,
		"/subscriptions/"+custSub+"/resourceGroups/mrg-open/providers/Microsoft.Network/networkSecurityGroups/mine", nsgVersion,
		armresources.GenericResource{Location: to.Ptr("westeurope")}, nil)
	if err != nil {
		t.Fatalf("customer write in an unlocked managed resource group: %v", err)
	}
	if _, err := p.PollUntilDone(ctx, &runtimePoll); err != nil {
		t.Fatal(err)
	}
}

func TestListsShowWhatTheCallerMayRead(t *testing.T) {
	w := newWorld(t, 0, "ReadOnly")
	ctx := context.Background()
	if _, err := w.createApp(t, "l1", "mrg-l1"); err != nil {
		t.Fatal(err)
	}
	list := func(a actor, path string) (int, int) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(w.s.BaseURL, "/")+path+"?api-version="+apiVersion, nil)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := a.cred.GetToken(ctx, tokenOpts)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := w.s.Transport().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Value []map[string]any }
		_ = decodeJSON(resp.Body, &body)
		return resp.StatusCode, len(body.Value)
	}
	subList := "/subscriptions/" + custSub + "/providers/Microsoft.Solutions/applications"
	rgList := "/subscriptions/" + custSub + "/resourceGroups/apps/providers/Microsoft.Solutions/applications"
	if s, n := list(w.customer, subList); s != http.StatusOK || n != 1 {
		t.Errorf("customer, subscription list: %d with %d", s, n)
	}
	if s, n := list(w.customer, rgList); s != http.StatusOK || n != 1 {
		t.Errorf("customer, group list: %d with %d", s, n)
	}
	// The publisher sees the applications of its definition.
	if s, n := list(w.publisher, subList); s != http.StatusOK || n != 1 {
		t.Errorf("publisher, subscription list: %d with %d", s, n)
	}
	stranger := w.servicePrincipal(t, w.s.Bootstrap.TenantID, "stranger")
	if s, _ := list(stranger, subList); s != http.StatusForbidden {
		t.Errorf("stranger, subscription list: %d, want 403", s)
	}
	// A stranger cannot read the application by ID either.
	_, err := stranger.resources(t, custSub).GetByID(ctx, "/subscriptions/"+custSub+"/resourceGroups/apps/providers/Microsoft.Solutions/applications/l1", apiVersion, nil)
	wantStatus(t, err, http.StatusForbidden, "AuthorizationFailed")
}

func TestMarketPlaceNotificationCarriesPlanAndBilling(t *testing.T) {
	w := newWorld(t, 0, "ReadOnly")
	plan := &armresources.Plan{Name: to.Ptr("gold"), Product: to.Ptr("contoso-offer"), Publisher: to.Ptr("contoso"), Version: to.Ptr("1.0.0")}
	app, err := w.appFrom(t, w.defID, "mp1", "MarketPlace", plan)
	if err != nil {
		t.Fatal(err)
	}
	props := app.Properties.(map[string]any)
	billing, _ := props["billingDetails"].(map[string]any)
	if billing["resourceUsageId"] == nil || app.Plan == nil || *app.Plan.Name != "gold" {
		t.Fatalf("MarketPlace application: plan %v properties %v", app.Plan, props)
	}
	evs := w.ep.waitFor(t, "PUT Succeeded", func(evs []map[string]any) bool { return hasEvent(evs, "PUT", "Succeeded") })
	for _, e := range evs {
		pl, _ := e["plan"].(map[string]any)
		b, _ := e["billingDetails"].(map[string]any)
		if pl["name"] != "gold" || b["resourceUsageId"] != billing["resourceUsageId"] {
			t.Errorf("MarketPlace notification: %v", e)
		}
	}
}

func TestRefusedNotificationIsNotRetried(t *testing.T) {
	w := newWorld(t, 0, "None")
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		rw.WriteHeader(http.StatusBadRequest)
	}))
	t.Cleanup(srv.Close)
	def := w.putDefinition(t, "refused", map[string]any{"lockLevel": "None", "mainTemplate": mainTemplate(),
		"notificationPolicy": map[string]any{"notificationEndpoints": []any{map[string]any{"uri": srv.URL}}}})
	if _, err := w.appFrom(t, def, "r1", "ServiceCatalog", nil); err != nil {
		t.Fatal(err)
	}
	// Both PUT notifications are tried once and dropped: the outbox empties.
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := w.sol.Pending(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got := calls
		mu.Unlock()
		if n == 0 && got >= 2 {
			if got != 2 {
				t.Errorf("a 400 answer was retried: %d calls for 2 notifications", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox still holds %d notifications after %d calls", n, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestUndeliverableNotificationIsDroppedAfterTheRetryPeriod(t *testing.T) {
	e := newEnv(t, solutions.Options{Poll: 5 * time.Millisecond,
		Retry: solutions.RetryPolicy{Base: time.Millisecond, Max: 5 * time.Millisecond, GiveUp: 1500 * time.Millisecond}})
	w := &world{env: e, ep: newEndpoint(t, 1<<30)} // always 500
	w.publisher = e.servicePrincipal(t, e.tenant(t, "P"), "pub")
	w.customer = e.servicePrincipal(t, e.tenant(t, "C"), "cust")
	e.subscription(t, pubSub, "publisher", w.publisher)
	e.subscription(t, custSub, "customer", w.customer)
	ctx := context.Background()
	for _, g := range []struct {
		a         actor
		sub, name string
	}{{w.publisher, pubSub, "offers"}, {w.customer, custSub, "apps"}} {
		if _, err := g.a.groups(t, g.sub).CreateOrUpdate(ctx, g.name, armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	def := w.putDefinition(t, "unreachable", map[string]any{"lockLevel": "None", "mainTemplate": mainTemplate(),
		"notificationPolicy": map[string]any{"notificationEndpoints": []any{map[string]any{"uri": w.ep.srv.URL}}}})
	if _, err := w.appFrom(t, def, "u1", "ServiceCatalog", nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := w.sol.Pending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w.ep.mu.Lock()
		calls := w.ep.calls
		w.ep.mu.Unlock()
		if n == 0 {
			// Each of the two notifications was tried, retried, then dropped.
			if calls < 3 {
				t.Errorf("dropped after %d attempts in all, want at least one retry", calls)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox still holds %d notifications after %d attempts", n, calls)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPutOfAnExistingApplicationDeploysAgain(t *testing.T) {
	w := newWorld(t, 0, "ReadOnly")
	ctx := context.Background()
	if _, err := w.createApp(t, "again", "mrg-again"); err != nil {
		t.Fatal(err)
	}
	id := "/subscriptions/" + custSub + "/resourceGroups/apps/providers/Microsoft.Solutions/applications/again"
	p, err := w.customer.resources(t, custSub).BeginCreateOrUpdateByID(ctx, id, apiVersion, armresources.GenericResource{
		Location: to.Ptr("westeurope"), Kind: to.Ptr("ServiceCatalog"),
		Properties: map[string]any{"applicationDefinitionId": w.defID,
			"parameters": map[string]any{"nsgName": map[string]any{"value": "nsg-second"}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.PollUntilDone(ctx, &runtimePoll)
	if err != nil {
		t.Fatal(err)
	}
	props := res.Properties.(map[string]any)
	outs, _ := props["outputs"].(map[string]any)
	out, _ := outs["nsgId"].(map[string]any)
	if props["provisioningState"] != "Succeeded" || !strings.HasSuffix(stringOr(out["value"]), "/nsg-second") ||
		!eqFold(props["managedResourceGroupId"], "/subscriptions/"+custSub+"/resourceGroups/mrg-again") {
		t.Fatalf("after the second PUT: %v", props)
	}
	if _, err := w.customer.resources(t, custSub).GetByID(ctx,
		"/subscriptions/"+custSub+"/resourceGroups/mrg-again/providers/Microsoft.Network/networkSecurityGroups/nsg-second", nsgVersion, nil); err != nil {
		t.Fatalf("the second deployment's resource: %v", err)
	}
}

func stringOr(v any) string {
	s, _ := v.(string)
	return s
}

func TestQueuedNotificationsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	ep := newEndpoint(t, 0)
	// A Steward that queues notifications but never delivers them stops.
	e := openEnv(t, dir, fastOutbox, false)
	w := populate(t, e, ep, "None")
	if _, err := w.createApp(t, "durable", "mrg-durable"); err != nil {
		t.Fatal(err)
	}
	n, err := w.sol.Pending(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("queued before the restart: %d (%v), want PUT Accepted and Succeeded", n, err)
	}
	e.close()
	// The next Steward on the same data delivers them.
	e2 := openEnv(t, dir, fastOutbox, true)
	ep.waitFor(t, "PUT Accepted and Succeeded after the restart", func(evs []map[string]any) bool {
		return hasEvent(evs, "PUT", "Accepted") && hasEvent(evs, "PUT", "Succeeded")
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := e2.sol.Pending(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d notifications still queued after delivery", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if len(ep.events) != 2 {
		t.Errorf("delivered %d notifications, want exactly 2", len(ep.events))
	}
}
