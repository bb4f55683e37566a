package authorization_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
)

// An initiative's denial names the set and the member; an exemption of one
// member leaves the others enforced.
func TestInitiativeMembersAndPartialExemption(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := "/subscriptions/" + e.sub
	if r, b := e.do(t, "PUT", sub+"/resourceGroups/rg?api-version=2021-04-01", []byte(`{"location":"westeurope"}`)); r.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", r.StatusCode, b)
	}
	defs, _ := armpolicy.NewDefinitionsClient(e.sub, e.cred, e.opts)
	for name, doc := range map[string]string{"allowed-locations": allowedLocations, "require-tag": benchDefinitions["require-tag"]} {
		if _, err := defs.CreateOrUpdate(ctx, name, definition(t, doc), nil); err != nil {
			t.Fatal(err)
		}
	}
	defID := func(n string) *string {
		return to.Ptr(sub + "/providers/Microsoft.Authorization/policyDefinitions/" + n)
	}
	sets, _ := armpolicy.NewSetDefinitionsClient(e.sub, e.cred, e.opts)
	if _, err := sets.CreateOrUpdate(ctx, "baseline", armpolicy.SetDefinition{Properties: &armpolicy.SetDefinitionProperties{
		DisplayName: to.Ptr("Baseline"),
		PolicyDefinitions: []*armpolicy.DefinitionReference{
			{PolicyDefinitionID: defID("allowed-locations"), PolicyDefinitionReferenceID: to.Ptr("locations"),
				Parameters: map[string]*armpolicy.ParameterValuesValue{"listOfAllowedLocations": {Value: []any{"westeurope"}}}},
			{PolicyDefinitionID: defID("require-tag"), PolicyDefinitionReferenceID: to.Ptr("env-tag")},
		}}}, nil); err != nil {
		t.Fatal(err)
	}
	pas, _ := armpolicy.NewAssignmentsClient(e.sub, e.cred, e.opts)
	a, err := pas.Create(ctx, sub[1:], "baseline", armpolicy.Assignment{Properties: &armpolicy.AssignmentProperties{
		PolicyDefinitionID: to.Ptr(sub + "/providers/Microsoft.Authorization/policySetDefinitions/baseline")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	put := func(name, body string) (int, map[string]any) {
		r, b := e.do(t, "PUT", sub+"/resourceGroups/rg/providers/Microsoft.Web/sites/"+name+"?api-version=2023-01-01", []byte(body))
		var env map[string]any
		_ = json.Unmarshal(b, &env)
		return r.StatusCode, env
	}
	status, env := put("a", `{"location":"eastus","tags":{"env":"x"}}`)
	if status != http.StatusForbidden {
		t.Fatalf("location violation: %d %v", status, env)
	}
	info := env["error"].(map[string]any)["additionalInfo"].([]any)[0].(map[string]any)["info"].(map[string]any)
	if info["policyDefinitionReferenceId"] != "locations" || !strings.HasSuffix(info["policySetDefinitionId"].(string), "/baseline") ||
		info["policySetDefinitionDisplayName"] != "Baseline" {
		t.Errorf("violation info: %v", info)
	}

	exs, _ := armpolicy.NewExemptionsClient(e.sub, e.cred, e.opts)
	if _, err := exs.CreateOrUpdate(ctx, sub[1:]+"/resourceGroups/rg", "locations-waiver", armpolicy.Exemption{Properties: &armpolicy.ExemptionProperties{
		PolicyAssignmentID: a.ID, ExemptionCategory: to.Ptr(armpolicy.ExemptionCategoryWaiver),
		PolicyDefinitionReferenceIDs: []*string{to.Ptr("locations")}}}, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body string
		status     int
	}{
		{"exempt member", `{"location":"eastus","tags":{"env":"x"}}`, http.StatusCreated},
		{"member still enforced", `{"location":"eastus"}`, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if status, env := put(strings.ReplaceAll(tc.name, " ", "-"), tc.body); status != tc.status {
				t.Errorf("%d, want %d: %v", status, tc.status, env)
			}
		})
	}
}
