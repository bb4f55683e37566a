package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/arm"
)

// versionProbe is a request that a type's route answers without an
// api-version error when the version is one of the type's.
type versionProbe struct {
	method, path string
	body         any
}

// versionProbes are, per type of arm.TypeAPIVersions (lower case), one
// request to it; {sub}, {tenant} and {rg} are filled in.
var versionProbes = map[string]versionProbe{
	"microsoft.resources/subscriptions":                                             {"GET", "subscriptions/{sub}", nil},
	"microsoft.resources/subscriptions/resourcegroups":                              {"GET", "subscriptions/{sub}/resourcegroups", nil},
	"microsoft.resources/resources":                                                 {"GET", "subscriptions/{sub}/resources", nil},
	"microsoft.resources/operationresults":                                          {"GET", "subscriptions/{sub}/operationresults/none", nil},
	"microsoft.resources/tags":                                                      {"GET", "subscriptions/{sub}/providers/Microsoft.Resources/tags/default", nil},
	"microsoft.resources/providers":                                                 {"GET", "subscriptions/{sub}/providers", nil},
	"microsoft.resources/deployments":                                               {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments", nil},
	"microsoft.resources/deployments/operations":                                    {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/none/operations", nil},
	"microsoft.resources/deployments/operationstatuses":                             {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/none/operationStatuses/none", nil},
	"microsoft.management/managementgroups":                                         {"GET", "providers/Microsoft.Management/managementGroups", nil},
	"microsoft.management/managementgroups/subscriptions":                           {"GET", "providers/Microsoft.Management/managementGroups/{tenant}/subscriptions/{sub}", nil},
	"microsoft.authorization/locks":                                                 {"GET", "subscriptions/{sub}/providers/Microsoft.Authorization/locks", nil},
	"microsoft.authorization/policydefinitions":                                     {"GET", "subscriptions/{sub}/providers/Microsoft.Authorization/policyDefinitions", nil},
	"microsoft.authorization/policysetdefinitions":                                  {"GET", "subscriptions/{sub}/providers/Microsoft.Authorization/policySetDefinitions", nil},
	"microsoft.authorization/policyassignments":                                     {"GET", "subscriptions/{sub}/providers/Microsoft.Authorization/policyAssignments", nil},
	"microsoft.authorization/policyexemptions":                                      {"GET", "subscriptions/{sub}/providers/Microsoft.Authorization/policyExemptions", nil},
	"microsoft.authorization/roleassignments":                                       {"GET", "subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments", nil},
	"microsoft.authorization/roledefinitions":                                       {"GET", "subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions", nil},
	"microsoft.authorization/permissions":                                           {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Authorization/permissions", nil},
	"microsoft.authorization/denyassignments":                                       {"GET", "subscriptions/{sub}/providers/Microsoft.Authorization/denyAssignments", nil},
	"microsoft.policyinsights/policystates":                                         {"POST", "subscriptions/{sub}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults", nil},
	"microsoft.managedidentity/userassignedidentities":                              {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/apiv", nil},
	"microsoft.managedidentity/userassignedidentities/federatedidentitycredentials": {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/apiv/federatedIdentityCredentials", nil},
	"microsoft.keyvault/vaults":                                                     {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.KeyVault/vaults", nil},
	"microsoft.storage/storageaccounts":                                             {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Storage/storageAccounts", nil},
	"microsoft.operationalinsights/workspaces":                                      {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.OperationalInsights/workspaces", nil},
	"microsoft.operationalinsights/workspaces/tables":                               {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/none/tables", nil},
	"microsoft.insights/datacollectionrules":                                        {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Insights/dataCollectionRules", nil},
	"microsoft.insights/datacollectionendpoints":                                    {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Insights/dataCollectionEndpoints", nil},
	"microsoft.insights/scheduledqueryrules":                                        {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Insights/scheduledQueryRules", nil},
	"microsoft.insights/actiongroups":                                               {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Insights/actionGroups", nil},
	"microsoft.insights/diagnosticsettings":                                         {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/apiv/providers/Microsoft.Insights/diagnosticSettings", nil},
	"microsoft.alertsmanagement/alerts":                                             {"GET", "subscriptions/{sub}/providers/Microsoft.AlertsManagement/alerts", nil},
	"microsoft.solutions/applications":                                              {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Solutions/applications", nil},
	"microsoft.solutions/applicationdefinitions":                                    {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Solutions/applicationDefinitions", nil},
	"microsoft.consumption/budgets":                                                 {"GET", "subscriptions/{sub}/providers/Microsoft.Consumption/budgets", nil},
	"microsoft.resources/templatespecs":                                             {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Resources/templateSpecs", nil},
	"microsoft.resources/templatespecs/versions":                                    {"GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Resources/templateSpecs/none/versions", nil},
}

// versionErrors are the codes of ARM's answers to an api-version a type
// does not have.
var versionErrors = map[string]bool{"InvalidApiVersionParameter": true, "NoRegisteredProviderFound": true, "InvalidResourceType": true}

// TestEveryPublishedAPIVersionIsAccepted sends, for every resource type
// Steward serves with a version table generated from the REST specs
// (internal/arm/apispecs.txt), one request with each of its published
// api-versions, previews included, and checks none is refused for its
// version; then one with a version no spec has, which gets the answer
// Azure gives for the type's provider.
func TestEveryPublishedAPIVersionIsAccepted(t *testing.T) {
	t.Parallel()
	s := serveFull(t, unthrottled)
	s.arm(t, "PUT", "subscriptions/"+s.Info.SubscriptionID+"/resourcegroups/apiv?api-version=2021-04-01", map[string]any{"location": "westeurope"})
	s.arm(t, "PUT", "subscriptions/"+s.Info.SubscriptionID+"/resourcegroups/apiv/providers/Microsoft.ManagedIdentity/userAssignedIdentities/apiv?api-version=2023-01-31",
		map[string]any{"location": "westeurope"})
	client := &http.Client{Transport: s.Transport()}
	token := armToken(t, s, client)
	fill := strings.NewReplacer("{sub}", s.Info.SubscriptionID, "{tenant}", s.Info.TenantID, "{rg}", "apiv")
	send := func(p versionProbe, version string) (int, string, string) {
		t.Helper()
		var body []byte
		if p.body != nil {
			body, _ = json.Marshal(p.body)
		}
		u := s.BaseURL + fill.Replace(p.path) + "?api-version=" + url.QueryEscape(version)
		req, err := http.NewRequestWithContext(context.Background(), p.method, u, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Error.Code, e.Error.Message
	}
	sent := 0
	for _, typ := range arm.TypesWithAPIVersions() {
		p, ok := versionProbes[typ]
		if !ok {
			t.Errorf("%s has a version table but no probe in versionProbes", typ)
			continue
		}
		versions := arm.TypeAPIVersions(typ)
		if len(versions) == 0 {
			t.Errorf("%s: no api-versions in the table", typ)
		}
		t.Run(typ, func(t *testing.T) {
			for _, v := range versions {
				sent++
				if status, code, msg := send(p, v); status >= 500 || versionErrors[code] {
					t.Errorf("%s %s api-version=%s: %d %s %s", p.method, p.path, v, status, code, msg)
				}
			}
			status, code, msg := send(p, "2099-01-01")
			ns, short, _ := strings.Cut(typ, "/")
			want := "InvalidResourceType"
			switch {
			case ns == "microsoft.resources" || ns == "microsoft.management":
				want = "InvalidApiVersionParameter"
			case arm.IsLocatedType(typ):
				want = "NoRegisteredProviderFound"
			}
			if status != http.StatusBadRequest || code != want {
				t.Fatalf("api-version=2099-01-01: %d %s %s, want 400 %s", status, code, msg, want)
			}
			if !strings.Contains(msg, "2099-01-01") || !strings.Contains(msg, versions[len(versions)-1]) {
				t.Errorf("message %q does not name the version asked and the supported ones", msg)
			}
			if want != "InvalidApiVersionParameter" && !strings.Contains(strings.ToLower(msg), "'"+short+"'") {
				t.Errorf("message %q does not name the type %q", msg, short)
			}
			if want == "NoRegisteredProviderFound" && strings.Contains(p.path, "/apiv") && !strings.Contains(msg, "location 'westeurope'") {
				t.Errorf("message %q does not name the resource's location", msg)
			}
		})
	}
	t.Logf("%d types, %d published api-versions sent", len(arm.TypesWithAPIVersions()), sent)
}
