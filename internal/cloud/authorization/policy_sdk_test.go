package authorization_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

const (
	allowedLocations = `{"properties":{"displayName":"Allowed locations","mode":"Indexed",
"parameters":{"listOfAllowedLocations":{"type":"Array"}},
"policyRule":{"if":{"not":{"field":"location","in":"[parameters('listOfAllowedLocations')]"}},"then":{"effect":"deny"}}}}`
	addCostCenter = `{"properties":{"displayName":"Add a costCenter tag","mode":"Indexed",
"parameters":{"value":{"type":"String"}},
"policyRule":{"if":{"field":"tags['costCenter']","exists":"false"},"then":{"effect":"modify","details":{
"roleDefinitionIds":["/providers/microsoft.authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"],
"operations":[{"operation":"add","field":"tags['costCenter']","value":"[parameters('value')]"}]}}}}}`
	protectVaults = `{"properties":{"displayName":"Do not delete vaults","mode":"Indexed",
"policyRule":{"if":{"field":"type","equals":"Microsoft.KeyVault/vaults"},"then":{"effect":"denyAction","details":{"actionNames":["delete"]}}}}}`
	badRule = `{"properties":{"mode":"All","policyRule":{"if":{"field":"type","notAnOperator":"x"},"then":{"effect":"deny"}}}}`
)

func TestSDKPolicyResourcesAndEnforcement(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := "/subscriptions/" + e.sub
	rgs, _ := armresources.NewResourceGroupsClient(e.sub, e.cred, e.opts)
	for _, rg := range []string{"app", "lab"} {
		if _, err := rgs.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	defs, _ := armpolicy.NewDefinitionsClient(e.sub, e.cred, e.opts)
	for name, doc := range map[string]string{"allowed-locations": allowedLocations, "add-cost-center": addCostCenter, "protect-vaults": protectVaults} {
		got, err := defs.CreateOrUpdate(ctx, name, definition(t, doc), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if *got.Properties.PolicyType != armpolicy.PolicyTypeCustom || *got.ID != sub+"/providers/Microsoft.Authorization/policyDefinitions/"+name {
			t.Fatalf("%s: %+v", name, got)
		}
	}
	_, err := defs.CreateOrUpdate(ctx, "bad", definition(t, badRule), nil)
	wantCode(t, err, http.StatusBadRequest, "InvalidPolicyRule")

	sets, _ := armpolicy.NewSetDefinitionsClient(e.sub, e.cred, e.opts)
	defID := func(n string) *string {
		return to.Ptr(sub + "/providers/Microsoft.Authorization/policyDefinitions/" + n)
	}
	setBody := armpolicy.SetDefinition{Properties: &armpolicy.SetDefinitionProperties{DisplayName: to.Ptr("baseline"),
		Parameters: map[string]*armpolicy.ParameterDefinitionsValue{"locations": {Type: to.Ptr(armpolicy.ParameterTypeArray)}},
		PolicyDefinitions: []*armpolicy.DefinitionReference{{PolicyDefinitionID: defID("allowed-locations"), PolicyDefinitionReferenceID: to.Ptr("locations"),
			Parameters: map[string]*armpolicy.ParameterValuesValue{"listOfAllowedLocations": {Value: "[parameters('locations')]"}}}}}}
	if _, err := sets.CreateOrUpdate(ctx, "baseline", setBody, nil); err != nil {
		t.Fatal(err)
	}
	setBody.Properties.PolicyDefinitions[0].PolicyDefinitionID = defID("missing")
	_, err = sets.CreateOrUpdate(ctx, "broken", setBody, nil)
	wantCode(t, err, http.StatusNotFound, "PolicyDefinitionNotFound")

	pas, _ := armpolicy.NewAssignmentsClient(e.sub, e.cred, e.opts)
	assign := func(scope, name string, p armpolicy.AssignmentProperties, extra ...func(*armpolicy.Assignment)) (armpolicy.AssignmentsClientCreateResponse, error) {
		a := armpolicy.Assignment{Properties: &p}
		for _, f := range extra {
			f(&a)
		}
		return pas.Create(ctx, scope, name, a, nil)
	}
	locs, err := assign(sub[1:], "baseline", armpolicy.AssignmentProperties{
		PolicyDefinitionID: to.Ptr(sub + "/providers/Microsoft.Authorization/policySetDefinitions/baseline"),
		Parameters:         params("locations", []any{"westeurope"})})
	if err != nil {
		t.Fatal(err)
	}
	if *locs.Properties.EnforcementMode != armpolicy.EnforcementModeDefault || *locs.Properties.Scope != sub {
		t.Fatalf("assignment defaults: %+v", locs.Properties)
	}
	_, err = assign(sub[1:], "no-params", armpolicy.AssignmentProperties{PolicyDefinitionID: defID("allowed-locations")})
	wantCode(t, err, http.StatusBadRequest, "MissingPolicyParameter")
	_, err = assign(sub[1:], "nothing", armpolicy.AssignmentProperties{PolicyDefinitionID: defID("nothing")})
	wantCode(t, err, http.StatusNotFound, "PolicyDefinitionNotFound")
	tagged, err := assign(sub[1:]+"/resourceGroups/app", "cost-center", armpolicy.AssignmentProperties{PolicyDefinitionID: defID("add-cost-center"),
		Parameters: params("value", "cc-42")}, func(a *armpolicy.Assignment) {
		a.Location = to.Ptr("westeurope")
		a.Identity = &armpolicy.Identity{Type: to.Ptr(armpolicy.ResourceIdentityTypeSystemAssigned)}
	})
	if err != nil {
		t.Fatal(err)
	}
	if tagged.Identity == nil || tagged.Identity.PrincipalID == nil || *tagged.Identity.TenantID != e.s.Bootstrap.TenantID {
		t.Fatalf("identity: %+v", tagged.Identity)
	}
	if _, err := assign(sub[1:], "protect-vaults", armpolicy.AssignmentProperties{PolicyDefinitionID: defID("protect-vaults")}); err != nil {
		t.Fatal(err)
	}

	res, _ := armresources.NewClient(e.sub, e.cred, e.opts)
	put := func(id, location string) (armresources.GenericResource, error) {
		poller, err := res.BeginCreateOrUpdateByID(ctx, id, "2023-07-01", armresources.GenericResource{Location: to.Ptr(location),
			Properties: map[string]any{"sku": "standard"}}, nil)
		if err != nil {
			return armresources.GenericResource{}, err
		}
		r, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Millisecond})
		return r.GenericResource, err
	}
	vault := sub + "/resourceGroups/app/providers/Microsoft.KeyVault/vaults/v1"
	_, err = put(vault, "eastus")
	wantCode(t, err, http.StatusForbidden, "RequestDisallowedByPolicy")
	got, err := put(vault, "westeurope")
	if err != nil {
		t.Fatal(err)
	}
	if got.Tags["costCenter"] == nil || *got.Tags["costCenter"] != "cc-42" {
		t.Fatalf("modify did not add the tag: %+v", got.Tags)
	}
	labVault := sub + "/resourceGroups/lab/providers/Microsoft.KeyVault/vaults/v2"
	if got, err := put(labVault, "westeurope"); err != nil || got.Tags["costCenter"] != nil {
		t.Fatalf("modify outside its scope: %+v %v", got.Tags, err)
	}

	// denyAction protects the vault from deletion.
	poller, err := res.BeginDeleteByID(ctx, vault, "2023-07-01", nil)
	if err == nil {
		_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Millisecond})
	}
	wantCode(t, err, http.StatusForbidden, "RequestDisallowedByPolicy")

	// An exemption of the lab group waives the location rule there.
	exs, _ := armpolicy.NewExemptionsClient(e.sub, e.cred, e.opts)
	_, err = exs.CreateOrUpdate(ctx, sub[1:]+"/resourceGroups/lab", "lab-waiver", armpolicy.Exemption{Properties: &armpolicy.ExemptionProperties{
		PolicyAssignmentID: locs.ID, ExemptionCategory: to.Ptr(armpolicy.ExemptionCategoryWaiver),
		ExpiresOn: to.Ptr(time.Now().Add(24 * time.Hour))}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := put(sub+"/resourceGroups/lab/providers/Microsoft.KeyVault/vaults/v3", "eastus"); err != nil {
		t.Fatalf("exempt group: %v", err)
	}
	_, err = exs.CreateOrUpdate(ctx, sub[1:]+"/resourceGroups/lab", "bad", armpolicy.Exemption{Properties: &armpolicy.ExemptionProperties{
		PolicyAssignmentID: to.Ptr(sub + "/providers/Microsoft.Authorization/policyAssignments/none"), ExemptionCategory: to.Ptr(armpolicy.ExemptionCategoryWaiver)}}, nil)
	wantCode(t, err, http.StatusNotFound, "PolicyAssignmentNotFound")

	// DoNotEnforce keeps the assignment but stops the denial.
	locs.Properties.EnforcementMode = to.Ptr(armpolicy.EnforcementModeDoNotEnforce)
	if _, err := pas.Create(ctx, sub[1:], "baseline", locs.Assignment, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := put(sub+"/resourceGroups/app/providers/Microsoft.KeyVault/vaults/v4", "eastus"); err != nil {
		t.Fatalf("DoNotEnforce: %v", err)
	}

	// PATCH adds an identity and keeps the rest.
	upd, err := pas.Update(ctx, sub[1:], "baseline", armpolicy.AssignmentUpdate{Location: to.Ptr("westeurope"),
		Identity: &armpolicy.Identity{Type: to.Ptr(armpolicy.ResourceIdentityTypeSystemAssigned)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if upd.Identity == nil || upd.Identity.PrincipalID == nil || *upd.Properties.EnforcementMode != armpolicy.EnforcementModeDoNotEnforce ||
		upd.Properties.Parameters["locations"] == nil {
		t.Fatalf("patched assignment: %+v %+v", upd.Identity, upd.Properties)
	}

	// Lists at the group see the subscription's assignments (atScope) and
	// the group's own.
	n := 0
	pager := pas.NewListForResourceGroupPager("app", &armpolicy.AssignmentsClientListForResourceGroupOptions{Filter: to.Ptr("atScope()")})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Value)
	}
	if n != 3 {
		t.Errorf("assignments at the app group = %d, want 3", n)
	}
	if _, err := pas.Delete(ctx, sub[1:], "protect-vaults", nil); err != nil {
		t.Fatal(err)
	}
	poller, err = res.BeginDeleteByID(ctx, vault, "2023-07-01", nil)
	if err == nil {
		_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Millisecond})
	}
	if err != nil {
		t.Fatalf("delete after the denyAction assignment is gone: %v", err)
	}
}
