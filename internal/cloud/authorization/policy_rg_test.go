package authorization_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// Resource groups are resources to policy (mode All): an assignment at the
// subscription that restricts their locations refuses a resource group
// elsewhere, as Azure's built-in "Allowed locations for resource groups"
// does.
func TestPolicyDeniesResourceGroupOutsideAllowedLocations(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := "/subscriptions/" + e.sub
	defs, _ := armpolicy.NewDefinitionsClient(e.sub, e.cred, e.opts)
	rgLocations := `{"properties":{"mode":"All","parameters":{"allowed":{"type":"Array"}},
"policyRule":{"if":{"allOf":[{"field":"type","equals":"Microsoft.Resources/subscriptions/resourceGroups"},
{"field":"location","notIn":"[parameters('allowed')]"}]},"then":{"effect":"deny"}}}}`
	if _, err := defs.CreateOrUpdate(ctx, "rg-locations", definition(t, rgLocations), nil); err != nil {
		t.Fatal(err)
	}
	pas, _ := armpolicy.NewAssignmentsClient(e.sub, e.cred, e.opts)
	if _, err := pas.Create(ctx, sub[1:], "rg-eu-only", armpolicy.Assignment{Properties: &armpolicy.AssignmentProperties{
		PolicyDefinitionID: to.Ptr(sub + "/providers/Microsoft.Authorization/policyDefinitions/rg-locations"),
		Parameters:         params("allowed", []any{"westeurope"})}}, nil); err != nil {
		t.Fatal(err)
	}
	rgs, _ := armresources.NewResourceGroupsClient(e.sub, e.cred, e.opts)
	_, err := rgs.CreateOrUpdate(ctx, "rg-us", armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil)
	wantCode(t, err, http.StatusForbidden, "RequestDisallowedByPolicy")
	if _, err := rgs.CreateOrUpdate(ctx, "rg-eu", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatalf("allowed location refused: %v", err)
	}
}

// A modify policy on a resource group changes its tags but not the type
// ARM reports for it.
func TestModifyOnResourceGroupKeepsItsARMType(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := "/subscriptions/" + e.sub
	defs, _ := armpolicy.NewDefinitionsClient(e.sub, e.cred, e.opts)
	tagRGs := `{"properties":{"mode":"All","policyRule":{"if":{"allOf":[
{"field":"type","equals":"Microsoft.Resources/subscriptions/resourceGroups"},{"field":"tags['owner']","exists":"false"}]},
"then":{"effect":"modify","details":{"roleDefinitionIds":["/providers/microsoft.authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"],
"operations":[{"operation":"add","field":"tags['owner']","value":"platform"}]}}}}}`
	if _, err := defs.CreateOrUpdate(ctx, "tag-rgs", definition(t, tagRGs), nil); err != nil {
		t.Fatal(err)
	}
	pas, _ := armpolicy.NewAssignmentsClient(e.sub, e.cred, e.opts)
	if _, err := pas.Create(ctx, sub[1:], "tag-rgs", armpolicy.Assignment{Properties: &armpolicy.AssignmentProperties{
		PolicyDefinitionID: to.Ptr(sub + "/providers/Microsoft.Authorization/policyDefinitions/tag-rgs")}}, nil); err != nil {
		t.Fatal(err)
	}
	rgs, _ := armresources.NewResourceGroupsClient(e.sub, e.cred, e.opts)
	got, err := rgs.CreateOrUpdate(ctx, "rg-tagged", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Tags["owner"] == nil || *got.Tags["owner"] != "platform" {
		t.Errorf("tags = %v, want owner=platform added by modify", got.Tags)
	}
	if got.Type == nil || *got.Type != "Microsoft.Resources/resourceGroups" {
		t.Errorf("type = %v, want Microsoft.Resources/resourceGroups", got.Type)
	}
}
