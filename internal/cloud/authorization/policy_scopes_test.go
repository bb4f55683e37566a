package authorization_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"

	"github.com/steward-gov/steward/internal/cloud/policyprovider"
)

// putResource writes a generic resource through the API as the
// administrator and returns the status and body.
func (e *env) putResource(t *testing.T, id, location string) (int, string) {
	t.Helper()
	r, b := e.do(t, "PUT", id+"?api-version=2023-01-01", []byte(`{"location":"`+location+`"}`))
	return r.StatusCode, string(b)
}

func TestPolicyAssignedAtManagementGroupReachesItsSubscriptions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := "/subscriptions/" + e.sub
	mg := "/providers/Microsoft.Management/managementGroups/corp"
	for _, w := range []struct{ path, body string }{
		{mg + "?api-version=2023-04-01", `{"properties":{"displayName":"Corp"}}`},
		{mg + "/subscriptions/" + e.sub + "?api-version=2023-04-01", ``},
		{sub + "/resourceGroups/app?api-version=2021-04-01", `{"location":"westeurope"}`},
		{sub + "/resourceGroups/sandbox?api-version=2021-04-01", `{"location":"westeurope"}`},
	} {
		if r, b := e.do(t, "PUT", w.path, []byte(w.body)); r.StatusCode >= 300 {
			t.Fatalf("PUT %s: %d %s", w.path, r.StatusCode, b)
		}
	}
	defs, _ := armpolicy.NewDefinitionsClient(e.sub, e.cred, e.opts)
	if _, err := defs.CreateOrUpdateAtManagementGroup(ctx, "corp", "allowed-locations", definition(t, allowedLocations), nil); err != nil {
		t.Fatal(err)
	}
	// The group's definition is visible from the subscription.
	found := false
	pager := defs.NewListPager(&armpolicy.DefinitionsClientListOptions{Filter: to.Ptr("policyType eq 'Custom'")})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Value {
			found = found || *d.Name == "allowed-locations"
		}
	}
	if !found {
		t.Error("management-group definition not listed at the subscription")
	}
	pas, _ := armpolicy.NewAssignmentsClient(e.sub, e.cred, e.opts)
	_, err := pas.Create(ctx, mg[1:], "corp-locations", armpolicy.Assignment{Properties: &armpolicy.AssignmentProperties{
		PolicyDefinitionID: to.Ptr(mg + "/providers/Microsoft.Authorization/policyDefinitions/allowed-locations"),
		Parameters:         params("listOfAllowedLocations", []any{"westeurope"}),
		NotScopes:          []*string{to.Ptr(sub + "/resourceGroups/sandbox")}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A subscription-level definition cannot be assigned at the group above it.
	if _, err := defs.CreateOrUpdate(ctx, "sub-only", definition(t, allowedLocations), nil); err != nil {
		t.Fatal(err)
	}
	_, err = pas.Create(ctx, mg[1:], "out-of-scope", armpolicy.Assignment{Properties: &armpolicy.AssignmentProperties{
		PolicyDefinitionID: to.Ptr(sub + "/providers/Microsoft.Authorization/policyDefinitions/sub-only"),
		Parameters:         params("listOfAllowedLocations", []any{"westeurope"})}}, nil)
	wantCode(t, err, http.StatusBadRequest, "InvalidCreatePolicyAssignmentRequest")

	tests := []struct {
		name, id, location string
		status             int
	}{
		{"denied below the group", sub + "/resourceGroups/app/providers/Microsoft.Web/sites/a", "eastus", http.StatusForbidden},
		{"allowed location", sub + "/resourceGroups/app/providers/Microsoft.Web/sites/b", "westeurope", http.StatusCreated},
		{"under a notScope", sub + "/resourceGroups/sandbox/providers/Microsoft.Web/sites/c", "eastus", http.StatusCreated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, body := e.putResource(t, tc.id, tc.location); got != tc.status {
				t.Fatalf("status %d, want %d: %s", got, tc.status, body)
			}
		})
	}
	// An exemption at the group reaches the subscriptions below it too.
	exs, _ := armpolicy.NewExemptionsClient(e.sub, e.cred, e.opts)
	if _, err := exs.CreateOrUpdate(ctx, mg[1:], "corp-waiver", armpolicy.Exemption{Properties: &armpolicy.ExemptionProperties{
		PolicyAssignmentID: to.Ptr(mg + "/providers/Microsoft.Authorization/policyAssignments/corp-locations"),
		ExemptionCategory:  to.Ptr(armpolicy.ExemptionCategoryMitigated)}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, body := e.putResource(t, sub+"/resourceGroups/app/providers/Microsoft.Web/sites/d", "eastus"); got != http.StatusCreated {
		t.Fatalf("exempted by the group: %d %s", got, body)
	}
}

// builtInDir is the built-in policy corpus in the shared directory.
func builtInDir(t *testing.T) string {
	dir, _ := filepath.Abs("../../../../shared/corpus/azure-policy/built-in-policies")
	if _, err := os.Stat(filepath.Join(dir, "policyDefinitions")); err != nil {
		t.Skipf("built-in policy corpus not available at %s (the shared directory is absent); scripts/fetch-conformance.sh assembles it (see docs/contributing.md)", dir)
	}
	return dir
}

func TestBuiltInPolicyDefinitionsFromTheCorpus(t *testing.T) {
	e := newEnv(t, policyprovider.Options{BuiltInDir: builtInDir(t)})
	ctx := context.Background()
	defs, _ := armpolicy.NewDefinitionsClient(e.sub, e.cred, e.opts)
	const allowedLocationsID = "e56962a6-4747-49cd-b67b-bf8b01975c4c"
	got, err := defs.GetBuiltIn(ctx, allowedLocationsID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Properties.DisplayName != "Allowed locations" || *got.Properties.PolicyType != armpolicy.PolicyTypeBuiltIn {
		t.Fatalf("built-in: %+v", got.Properties)
	}
	n := 0
	pager := defs.NewListBuiltInPager(&armpolicy.DefinitionsClientListBuiltInOptions{Top: to.Ptr[int32](1000)})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Value)
	}
	if n < 1000 {
		t.Errorf("built-in definitions listed: %d", n)
	}
	_, err = defs.GetBuiltIn(ctx, "00000000-0000-0000-0000-000000000000", nil)
	wantCode(t, err, http.StatusNotFound, "PolicyDefinitionNotFound")

	pas, _ := armpolicy.NewAssignmentsClient(e.sub, e.cred, e.opts)
	if _, err := pas.Create(ctx, "subscriptions/"+e.sub, "locations", armpolicy.Assignment{Properties: &armpolicy.AssignmentProperties{
		PolicyDefinitionID: got.ID, Parameters: params("listOfAllowedLocations", []any{"westeurope"})}}, nil); err != nil {
		t.Fatal(err)
	}
	if r, b := e.do(t, "PUT", "/subscriptions/"+e.sub+"/resourceGroups/rg?api-version=2021-04-01", []byte(`{"location":"westeurope"}`)); r.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", r.StatusCode, b)
	}
	if got, body := e.putResource(t, "/subscriptions/"+e.sub+"/resourceGroups/rg/providers/Microsoft.Web/sites/x", "eastus"); got != http.StatusForbidden {
		t.Fatalf("built-in deny: %d %s", got, body)
	}
}

const inheritTag = `{"properties":{"mode":"Indexed","parameters":{"tagName":{"type":"String"}},
"policyRule":{"if":{"allOf":[{"field":"[concat('tags[', parameters('tagName'), ']')]","exists":"false"},
{"value":"[resourceGroup().tags[parameters('tagName')]]","notEquals":""}]},
"then":{"effect":"modify","details":{"roleDefinitionIds":["/providers/microsoft.authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"],
"operations":[{"operation":"add","field":"[concat('tags[', parameters('tagName'), ']')]","value":"[resourceGroup().tags[parameters('tagName')]]"}]}}}}}`

func TestModifyReadsTheResourceGroup(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := "/subscriptions/" + e.sub
	for _, w := range []struct{ path, body string }{
		{sub + "/resourceGroups/tagged?api-version=2021-04-01", `{"location":"westeurope","tags":{"env":"prod"}}`},
		{sub + "/resourceGroups/plain?api-version=2021-04-01", `{"location":"westeurope"}`},
	} {
		if r, b := e.do(t, "PUT", w.path, []byte(w.body)); r.StatusCode >= 300 {
			t.Fatalf("PUT %s: %d %s", w.path, r.StatusCode, b)
		}
	}
	defs, _ := armpolicy.NewDefinitionsClient(e.sub, e.cred, e.opts)
	if _, err := defs.CreateOrUpdate(ctx, "inherit-tag", definition(t, inheritTag), nil); err != nil {
		t.Fatal(err)
	}
	pas, _ := armpolicy.NewAssignmentsClient(e.sub, e.cred, e.opts)
	if _, err := pas.Create(ctx, sub[1:], "inherit-env", armpolicy.Assignment{Location: to.Ptr("westeurope"),
		Identity: &armpolicy.Identity{Type: to.Ptr(armpolicy.ResourceIdentityTypeSystemAssigned)},
		Properties: &armpolicy.AssignmentProperties{PolicyDefinitionID: to.Ptr(sub + "/providers/Microsoft.Authorization/policyDefinitions/inherit-tag"),
			Parameters: params("tagName", "env")}}, nil); err != nil {
		t.Fatal(err)
	}
	// A group without the tag makes the rule's template fail, which the
	// docs make an implicit deny ("A failed evaluation is an implicit
	// deny"); a group with it lends its value.
	tests := []struct {
		rg     string
		status int
		want   string
	}{{"tagged", http.StatusCreated, `"env":"prod"`}, {"plain", http.StatusForbidden, "RequestDisallowedByPolicy"}}
	for _, tc := range tests {
		t.Run(tc.rg, func(t *testing.T) {
			r, b := e.do(t, "PUT", sub+"/resourceGroups/"+tc.rg+"/providers/Microsoft.Web/sites/s?api-version=2023-01-01", []byte(`{"location":"westeurope"}`))
			if r.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
				t.Fatalf("resource in %s: %d %s", tc.rg, r.StatusCode, b)
			}
		})
	}
}

func TestAppendAssignedOnOneResource(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := "/subscriptions/" + e.sub
	if r, b := e.do(t, "PUT", sub+"/resourceGroups/rg?api-version=2021-04-01", []byte(`{"location":"westeurope"}`)); r.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", r.StatusCode, b)
	}
	site := sub + "/resourceGroups/rg/providers/Microsoft.Web/sites/one"
	other := sub + "/resourceGroups/rg/providers/Microsoft.Web/sites/two"
	for _, id := range []string{site, other} {
		if got, body := e.putResource(t, id, "westeurope"); got != http.StatusCreated {
			t.Fatalf("%d %s", got, body)
		}
	}
	defs, _ := armpolicy.NewDefinitionsClient(e.sub, e.cred, e.opts)
	if _, err := defs.CreateOrUpdate(ctx, "mark", definition(t, `{"properties":{"mode":"Indexed","policyRule":{
		"if":{"field":"tags['managed']","exists":"false"},"then":{"effect":"append","details":[{"field":"tags['managed']","value":"steward"}]}}}}`), nil); err != nil {
		t.Fatal(err)
	}
	pas, _ := armpolicy.NewAssignmentsClient(e.sub, e.cred, e.opts)
	if _, err := pas.Create(ctx, site[1:], "mark-one", armpolicy.Assignment{Properties: &armpolicy.AssignmentProperties{
		PolicyDefinitionID: to.Ptr(sub + "/providers/Microsoft.Authorization/policyDefinitions/mark")}}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := pas.Create(ctx, sub[1:]+"/resourceGroups/rg/providers/Microsoft.Web/sites/none", "x", armpolicy.Assignment{Properties: &armpolicy.AssignmentProperties{
		PolicyDefinitionID: to.Ptr(sub + "/providers/Microsoft.Authorization/policyDefinitions/mark")}}, nil)
	wantCode(t, err, http.StatusNotFound, "ParentResourceNotFound")

	tests := []struct {
		id     string
		tagged bool
	}{{site, true}, {other, false}}
	for _, tc := range tests {
		_, body := e.putResource(t, tc.id, "westeurope")
		if got := strings.Contains(body, `"managed":"steward"`); got != tc.tagged {
			t.Errorf("%s tagged = %v, want %v: %s", tc.id, got, tc.tagged, body)
		}
	}
}
