package solutions_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armsubscriptions"

	"github.com/steward-gov/steward/internal/cloud/solutions"
	"github.com/steward-gov/steward/internal/rbac"
)

const (
	apiVersion = "2021-07-01"
	nsgVersion = "2022-07-01"
	pubSub     = "11111111-1111-4111-8111-111111111111"
	custSub    = "22222222-2222-4222-8222-222222222222"
)

// mainTemplate deploys one network security group and outputs its ID.
func mainTemplate() map[string]any {
	return map[string]any{
		"$schema":        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion": "1.0.0.0",
		"parameters":     map[string]any{"nsgName": map[string]any{"type": "string"}},
		"resources": []any{map[string]any{
			"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": nsgVersion,
			"name": "[parameters('nsgName')]", "location": "[resourceGroup().location]",
			"properties": map[string]any{"securityRules": []any{}},
		}},
		"outputs": map[string]any{"nsgId": map[string]any{"type": "string",
			"value": "[resourceId('Microsoft.Network/networkSecurityGroups', parameters('nsgName'))]"}},
	}
}

// world is a publisher tenant with its service principal and a customer
// tenant with its own subscription, on one Steward.
type world struct {
	*env
	publisher, customer actor
	defID               string
	ep                  *endpoint
}

func newWorld(t testing.TB, failFirst int, lockLevel string) *world {
	t.Helper()
	e := newEnv(t, fastOutbox)
	return populate(t, e, newEndpoint(t, failFirst), lockLevel)
}

// fastOutbox polls and retries within milliseconds.
var fastOutbox = solutions.Options{Poll: 5 * time.Millisecond,
	Retry: solutions.RetryPolicy{Base: 5 * time.Millisecond, Max: 20 * time.Millisecond, GiveUp: time.Hour}}

// populate adds the tenants, subscriptions, groups and the definition
// (notifying ep) of a world to e.
func populate(t testing.TB, e *env, ep *endpoint, lockLevel string) *world {
	t.Helper()
	w := &world{env: e, ep: ep}
	w.publisher = e.servicePrincipal(t, e.tenant(t, "Contoso Publisher"), "contoso-managedapp")
	w.customer = e.servicePrincipal(t, e.tenant(t, "Fabrikam Customer"), "fabrikam-ops")
	e.subscription(t, pubSub, "publisher", w.publisher)
	e.subscription(t, custSub, "customer", w.customer)
	ctx := context.Background()
	for _, g := range []struct{ sub, name string }{{pubSub, "offers"}, {custSub, "apps"}, {custSub, "other"}} {
		a := w.publisher
		if g.sub == custSub {
			a = w.customer
		}
		if _, err := a.groups(t, g.sub).CreateOrUpdate(ctx, g.name, armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	w.defID = "/subscriptions/" + pubSub + "/resourceGroups/offers/providers/Microsoft.Solutions/applicationDefinitions/contoso-app"
	def := armresources.GenericResource{Location: to.Ptr("westeurope"), Properties: map[string]any{
		"lockLevel":    lockLevel,
		"displayName":  "Contoso app",
		"description":  "A network security group, watched by policy",
		"mainTemplate": mainTemplate(),
		"createUiDefinition": map[string]any{"$schema": "https://schema.management.azure.com/schemas/0.1.2-preview/CreateUIDefinition.MultiVm.json#",
			"handler": "Microsoft.Azure.CreateUIDef", "version": "0.1.2-preview", "parameters": map[string]any{}},
		"authorizations": []any{map[string]any{"principalId": w.publisher.id, "roleDefinitionId": rbac.ContributorRoleID}},
		"policies": []any{map[string]any{"name": "audit-env-tag", "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/" + builtinPolicy,
			"parameters": `{"tagName":{"value":"env"}}`}},
		"notificationPolicy": map[string]any{"notificationEndpoints": []any{map[string]any{"uri": w.ep.srv.URL + "/hooks?sig=s3cret"}}},
		"deploymentPolicy":   map[string]any{"deploymentMode": "Incremental"},
		"managementPolicy":   map[string]any{"mode": "Managed"},
	}}
	p, err := w.publisher.resources(t, pubSub).BeginCreateOrUpdateByID(ctx, w.defID, apiVersion, def, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollUntilDone(ctx, &runtimePoll); err != nil {
		t.Fatal(err)
	}
	// The publisher shares the definition with the customer (service
	// catalog: read access to the definition).
	e.grant(t, w.defID, rbac.ReaderRoleID, w.customer.id)
	return w
}

// createApp creates an application as the customer and waits for it.
func (w *world) createApp(t testing.TB, name, mrg string) (armresources.GenericResource, error) {
	t.Helper()
	ctx := context.Background()
	id := "/subscriptions/" + custSub + "/resourceGroups/apps/providers/Microsoft.Solutions/applications/" + name
	p, err := w.customer.resources(t, custSub).BeginCreateOrUpdateByID(ctx, id, apiVersion, armresources.GenericResource{
		Location: to.Ptr("westeurope"), Kind: to.Ptr("ServiceCatalog"),
		Properties: map[string]any{
			"applicationDefinitionId": w.defID,
			"managedResourceGroupId":  "/subscriptions/" + custSub + "/resourceGroups/" + mrg,
			"parameters":              map[string]any{"nsgName": map[string]any{"value": "nsg-" + name}},
		}}, nil)
	if err != nil {
		return armresources.GenericResource{}, err
	}
	res, err := p.PollUntilDone(ctx, &runtimePoll)
	return res.GenericResource, err
}

func TestApplicationLifecycleAcrossTenants(t *testing.T) {
	w := newWorld(t, 2, "ReadOnly")
	ctx := context.Background()
	mrgID := "/subscriptions/" + custSub + "/resourceGroups/mrg-contoso"
	app, err := w.createApp(t, "contoso", "mrg-contoso")
	if err != nil {
		t.Fatal(err)
	}
	appID := *app.ID
	props := app.Properties.(map[string]any)
	if props["provisioningState"] != "Succeeded" || !eqFold(props["managedResourceGroupId"], mrgID) {
		t.Fatalf("application after create: %v", props)
	}
	if props["publisherTenantId"] != w.publisher.tenant {
		t.Errorf("publisherTenantId = %v, want the publisher's tenant %s", props["publisherTenantId"], w.publisher.tenant)
	}
	nsgID := mrgID + "/providers/Microsoft.Network/networkSecurityGroups/nsg-contoso"
	outs, _ := props["outputs"].(map[string]any)
	if out, _ := outs["nsgId"].(map[string]any); !eqFold(out["value"], nsgID) {
		t.Errorf("outputs = %v, want nsgId %s", outs, nsgID)
	}

	// The template's resource is in the managed resource group, which the
	// application manages.
	cust := w.customer.resources(t, custSub)
	if _, err := cust.GetByID(ctx, nsgID, nsgVersion, nil); err != nil {
		t.Fatalf("the deployed resource: %v", err)
	}
	g, err := w.customer.groups(t, custSub).Get(ctx, "mrg-contoso", nil)
	if err != nil || !eqFold(g.ManagedBy, appID) {
		t.Fatalf("managed resource group: %+v %v", g, err)
	}

	// The definition's policy is assigned at the managed resource group.
	pa, err := armpolicy.NewAssignmentsClient(custSub, w.customer.cred, w.customer.opts)
	if err != nil {
		t.Fatal(err)
	}
	a, err := pa.Get(ctx, mrgID, "audit-env-tag", nil)
	if err != nil {
		t.Fatalf("policy assignment: %v", err)
	}
	if !eqFold(a.Properties.PolicyDefinitionID, "/providers/Microsoft.Authorization/policyDefinitions/"+builtinPolicy) || a.Properties.Parameters["tagName"] == nil {
		t.Errorf("policy assignment: %+v", a.Properties)
	}

	// The publisher's principal (another tenant) acts in the managed
	// resource group through the application's authorization, and nowhere
	// else in the customer's subscription; it may read the application.
	pub := w.publisher.resources(t, custSub)
	nsg := armresources.GenericResource{Location: to.Ptr("westeurope"), Properties: map[string]any{"securityRules": []any{}}}
	if p, err := pub.BeginCreateOrUpdateByID(ctx, mrgID+"/providers/Microsoft.Network/networkSecurityGroups/by-publisher", nsgVersion, nsg, nil); err != nil {
		t.Fatalf("publisher write in the managed resource group: %v", err)
	} else if _, err := p.PollUntilDone(ctx, &runtimePoll); err != nil {
		t.Fatal(err)
	}
	_, err = pub.BeginCreateOrUpdateByID(ctx, "/subscriptions/"+custSub+"/resourceGroups/other/providers/Microsoft.Network/networkSecurityGroups/x", nsgVersion, nsg, nil)
	wantStatus(t, err, http.StatusForbidden, "AuthorizationFailed")
	if got, err := pub.GetByID(ctx, appID, apiVersion, nil); err != nil || !eqFold(got.ID, appID) {
		t.Fatalf("publisher get_by_id of the application: %v", err)
	}
	// The publisher finds the customer's subscription (it holds a role in
	// it), which is how a collector reconciles by listing applications.
	subs, err := armsubscriptions.NewClient(w.publisher.cred, w.publisher.opts)
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for sp := subs.NewListPager(nil); sp.More(); {
		page, err := sp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Value {
			seen = seen || eqFold(s.SubscriptionID, custSub)
		}
	}
	if !seen {
		t.Error("the publisher's subscription list lacks the customer's subscription")
	}

	// The customer, Owner of its subscription, may read the managed
	// resource group but not change it: the deny assignment.
	_, err = cust.BeginCreateOrUpdateByID(ctx, mrgID+"/providers/Microsoft.Network/networkSecurityGroups/by-customer", nsgVersion, nsg, nil)
	wantStatus(t, err, http.StatusForbidden, "")
	_, err = w.customer.groups(t, custSub).BeginDelete(ctx, "mrg-contoso", nil)
	wantStatus(t, err, http.StatusForbidden, "")
	da, err := armauthorization.NewDenyAssignmentsClient(custSub, w.customer.cred, w.customer.opts)
	if err != nil {
		t.Fatal(err)
	}
	pager := da.NewListForResourceGroupPager("mrg-contoso", nil)
	var denies []*armauthorization.DenyAssignment
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		denies = append(denies, page.Value...)
	}
	if len(denies) != 1 || len(denies[0].Properties.ExcludePrincipals) != 2 || !*denies[0].Properties.IsSystemProtected {
		t.Fatalf("deny assignments on the managed resource group: %+v", denies)
	}

	// The endpoint got PUT Accepted and Succeeded at {uri}/resource with
	// its query kept, after Steward retried the two failed attempts.
	evs := w.ep.waitFor(t, "PUT Accepted and Succeeded", func(evs []map[string]any) bool {
		return hasEvent(evs, "PUT", "Accepted") && hasEvent(evs, "PUT", "Succeeded")
	})
	for _, e := range evs {
		if !eqFold(e["applicationId"], appID) || e["applicationDefinitionId"] == nil || e["eventTime"] == nil {
			t.Errorf("notification payload: %v", e)
		}
	}
	w.ep.mu.Lock()
	if w.ep.paths[0] != "/hooks/resource?sig=s3cret" || w.ep.calls < 4 {
		t.Errorf("notification requests: paths %v after %d calls", w.ep.paths, w.ep.calls)
	}
	w.ep.mu.Unlock()

	// Deleting the application removes the managed resource group and all
	// it holds, and the grants and deny assignment with it.
	dp, err := cust.BeginDeleteByID(ctx, appID, apiVersion, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dp.PollUntilDone(ctx, &runtimePoll); err != nil {
		t.Fatal(err)
	}
	_, err = cust.GetByID(ctx, appID, apiVersion, nil)
	wantStatus(t, err, http.StatusNotFound, "ResourceNotFound")
	_, err = w.customer.groups(t, custSub).Get(ctx, "mrg-contoso", nil)
	wantStatus(t, err, http.StatusNotFound, "ResourceGroupNotFound")
	_, err = pub.GetByID(ctx, mrgID+"/providers/Microsoft.Network/networkSecurityGroups/by-publisher", nsgVersion, nil)
	wantStatus(t, err, http.StatusForbidden, "AuthorizationFailed")
	w.ep.waitFor(t, "DELETE Deleting and Deleted", func(evs []map[string]any) bool {
		return hasEvent(evs, "DELETE", "Deleting") && hasEvent(evs, "DELETE", "Deleted")
	})
}

func eqFold(v any, want string) bool {
	switch s := v.(type) {
	case string:
		return lower(s) == lower(want)
	case *string:
		return s != nil && lower(*s) == lower(want)
	}
	return false
}
