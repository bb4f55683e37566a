package insights_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"
	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/identity"
)

const contributor = "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"

// dineDefinition deploys a site named {farm}-site next to every server
// farm that has none.
func (e *env) dineDefinition(t testing.TB) string {
	t.Helper()
	id := "/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/policyDefinitions/farm-site"
	e.put(t, id, "2023-04-01", map[string]any{"properties": map[string]any{
		"mode": "All",
		"policyRule": map[string]any{
			"if": map[string]any{"field": "type", "equals": "Microsoft.Web/serverfarms"},
			"then": map[string]any{"effect": "deployIfNotExists", "details": map[string]any{
				"type":              "Microsoft.Web/sites",
				"name":              "[concat(field('name'), '-site')]",
				"roleDefinitionIds": []any{contributor},
				"deployment": map[string]any{"properties": map[string]any{
					"mode": "incremental",
					"parameters": map[string]any{
						"farm":     map[string]any{"value": "[field('name')]"},
						"location": map[string]any{"value": "[field('location')]"},
					},
					"template": map[string]any{
						"$schema":        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
						"contentVersion": "1.0.0.0",
						"parameters": map[string]any{
							"farm":     map[string]any{"type": "string"},
							"location": map[string]any{"type": "string"},
						},
						"resources": []any{map[string]any{
							"type": "Microsoft.Web/sites", "apiVersion": "2023-01-01",
							"name":       "[concat(parameters('farm'), '-site')]",
							"location":   "[parameters('location')]",
							"properties": map[string]any{"serverFarmId": "[resourceId('Microsoft.Web/serverfarms', parameters('farm'))]"},
						}},
					},
				}},
			}},
		}}})
	return id
}

// assignWithIdentity assigns a definition with a system-assigned identity,
// as deployIfNotExists and modify assignments have on Azure.
func (e *env) assignWithIdentity(t testing.TB, scope, name, def string) string {
	t.Helper()
	id := scope + "/providers/Microsoft.Authorization/policyAssignments/" + name
	e.put(t, id, "2023-04-01", map[string]any{"location": "westeurope", "identity": map[string]any{"type": "SystemAssigned"},
		"properties": map[string]any{"policyDefinitionId": def}})
	return id
}

// grantContributor gives the assignment's identity Contributor at scope,
// as the portal does for the definition's roleDefinitionIds.
func (e *env) grantContributor(t testing.TB, assignmentID, scope string) {
	t.Helper()
	code, b := e.do(t, http.MethodGet, assignmentID+"?api-version=2023-04-01", nil)
	var doc struct {
		Identity struct{ PrincipalID string }
	}
	if code != http.StatusOK || json.Unmarshal(b, &doc) != nil || doc.Identity.PrincipalID == "" {
		t.Fatalf("assignment: %d %s", code, b)
	}
	e.put(t, scope+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString(), "2022-04-01", map[string]any{
		"properties": map[string]any{"roleDefinitionId": "/subscriptions/" + e.sub + contributor,
			"principalId": doc.Identity.PrincipalID, "principalType": "ServicePrincipal"}})
}

func (e *env) complianceOf(t testing.TB, resourceID, assignmentID string) string {
	t.Helper()
	client, err := armpolicyinsights.NewPolicyStatesClient(e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	pager := client.NewListQueryResultsForResourcePager(armpolicyinsights.PolicyStatesResourceLatest, resourceID, nil, nil)
	page, err := pager.NextPage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range page.Value {
		if strings.EqualFold(*s.PolicyAssignmentID, assignmentID) {
			return *s.ComplianceState
		}
	}
	return ""
}

// waitRemediation polls a remediation until it has ended (the runner
// works in the background) and returns it as the SDK reads it.
func waitRemediation(t testing.TB, e *env, id string) armpolicyinsights.Remediation {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		code, b := e.do(t, http.MethodGet, id+"?api-version=2021-10-01", nil)
		var r armpolicyinsights.Remediation
		if code != http.StatusOK || json.Unmarshal(b, &r) != nil || r.Properties == nil || r.Properties.ProvisioningState == nil {
			t.Fatalf("GET %s: %d %s", id, code, b)
		}
		switch *r.Properties.ProvisioningState {
		case "Succeeded", "Failed", "Canceled":
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("remediation %s still %s", id, *r.Properties.ProvisioningState)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func remediationsClient(t testing.TB, e *env) *armpolicyinsights.RemediationsClient {
	t.Helper()
	c, err := armpolicyinsights.NewRemediationsClient(e.sub, e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSDKRemediationDeployIfNotExists: a server farm without its site is
// NonCompliant; a remediation at the resource group deploys the
// definition's template (parameters evaluated for the farm), reports
// Succeeded with one successful deployment, listDeployments names the
// farm and the deployment, the site exists and the farm is Compliant.
// A farm outside the location filter is left alone.
func TestSDKRemediationDeployIfNotExists(t *testing.T) {
	e := newEnv(t, insights.Options{})
	ctx := context.Background()
	e.put(t, e.rg("apps"), "2021-04-01", map[string]any{"location": "westeurope"})
	farm := e.rg("apps") + "/providers/Microsoft.Web/serverfarms/farm1"
	other := e.rg("apps") + "/providers/Microsoft.Web/serverfarms/farm2"
	e.put(t, farm, "2023-01-01", map[string]any{"location": "westeurope"})
	e.put(t, other, "2023-01-01", map[string]any{"location": "northeurope"})
	a := e.assignWithIdentity(t, "/subscriptions/"+e.sub, "farm-site", e.dineDefinition(t))
	e.grantContributor(t, a, e.rg("apps"))
	e.waitIdle(t)
	if got := e.complianceOf(t, farm, a); got != "NonCompliant" {
		t.Fatalf("before: farm is %q, want NonCompliant", got)
	}
	client := remediationsClient(t, e)
	resp, err := client.CreateOrUpdateAtResourceGroup(ctx, "apps", "fix-farms", armpolicyinsights.Remediation{
		Properties: &armpolicyinsights.RemediationProperties{
			PolicyAssignmentID: to.Ptr(a),
			Filters:            &armpolicyinsights.RemediationFilters{Locations: []*string{to.Ptr("westeurope")}},
		}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The PUT answers before the deployments run.
	if st := *resp.Properties.ProvisioningState; st != "Accepted" {
		t.Errorf("PUT answered %s, want Accepted", st)
	}
	p := waitRemediation(t, e, *resp.ID).Properties
	if *p.ProvisioningState != "Succeeded" || *p.DeploymentStatus.TotalDeployments != 1 ||
		*p.DeploymentStatus.SuccessfulDeployments != 1 || *p.DeploymentStatus.FailedDeployments != 0 {
		t.Fatalf("remediation: %s %+v", *p.ProvisioningState, *p.DeploymentStatus)
	}
	got, err := client.GetAtResourceGroup(ctx, "apps", "fix-farms", nil)
	if err != nil || *got.Properties.ProvisioningState != "Succeeded" || *got.Properties.ResourceDiscoveryMode != armpolicyinsights.ResourceDiscoveryModeExistingNonCompliant {
		t.Fatalf("get: %+v %v", got, err)
	}
	pager := client.NewListDeploymentsAtResourceGroupPager("apps", "fix-farms", nil, nil)
	page, err := pager.NextPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Value) != 1 || !strings.EqualFold(*page.Value[0].RemediatedResourceID, farm) || *page.Value[0].Status != "Succeeded" ||
		!strings.Contains(*page.Value[0].DeploymentID, "/providers/Microsoft.Resources/deployments/") {
		t.Fatalf("deployments: %+v", page.Value)
	}
	if code, b := e.do(t, http.MethodGet, e.rg("apps")+"/providers/Microsoft.Web/sites/farm1-site?api-version=2023-01-01", nil); code != http.StatusOK {
		t.Fatalf("the deployed site: %d %s", code, b)
	}
	if got := e.complianceOf(t, farm, a); got != "Compliant" {
		t.Fatalf("after: farm is %q, want Compliant", got)
	}
	if got := e.complianceOf(t, other, a); got != "NonCompliant" {
		t.Fatalf("the filtered-out farm is %q, want NonCompliant", got)
	}
	list := client.NewListForSubscriptionPager(nil, nil)
	lp, err := list.NextPage(ctx)
	if err != nil || len(lp.Value) != 1 || *lp.Value[0].Name != "fix-farms" {
		t.Fatalf("list: %+v %v", lp.Value, err)
	}
	// At the other farm's own scope, the remediation fixes just it.
	at, err := client.CreateOrUpdateAtResource(ctx, strings.TrimPrefix(other, "/"), "fix-one", armpolicyinsights.Remediation{
		Properties: &armpolicyinsights.RemediationProperties{PolicyAssignmentID: to.Ptr(a)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := waitRemediation(t, e, *at.ID).Properties; *p.ProvisioningState != "Succeeded" || *p.DeploymentStatus.TotalDeployments != 1 ||
		!strings.EqualFold(*at.ID, other+"/providers/Microsoft.PolicyInsights/remediations/fix-one") {
		t.Fatalf("resource-scope remediation: %s %s %+v", *at.ID, *p.ProvisioningState, *p.DeploymentStatus)
	}
	if got := e.complianceOf(t, other, a); got != "Compliant" {
		t.Fatalf("after its own remediation: farm2 is %q, want Compliant", got)
	}
	rl := client.NewListForResourcePager(strings.TrimPrefix(other, "/"), nil, nil)
	if rp, err := rl.NextPage(ctx); err != nil || len(rp.Value) != 1 || *rp.Value[0].Name != "fix-one" {
		t.Fatalf("list at the resource: %+v %v", rp.Value, err)
	}
	// Cancel: the remediation has ended.
	_, err = client.CancelAtResourceGroup(ctx, "apps", "fix-farms", nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest || re.ErrorCode != "InvalidCancelRemediationRequest" {
		t.Fatalf("cancel: %v", err)
	}
	if _, err := client.DeleteAtResourceGroup(ctx, "apps", "fix-farms", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetAtResourceGroup(ctx, "apps", "fix-farms", nil); !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		t.Fatalf("get after delete: %v", err)
	}
}

// TestSDKRemediationModify: a virtual network written before a modify
// assignment lacks its tag; the remediation writes it again through the
// pipeline, which adds the tag, and the network becomes Compliant.
func TestSDKRemediationModify(t *testing.T) {
	e := newEnv(t, insights.Options{})
	ctx := context.Background()
	e.put(t, e.rg("net"), "2021-04-01", map[string]any{"location": "westeurope"})
	vnet := e.rg("net") + "/providers/Microsoft.Network/virtualNetworks/vnet1"
	e.put(t, vnet, "2023-04-01", map[string]any{"location": "westeurope", "properties": map[string]any{
		"addressSpace": map[string]any{"addressPrefixes": []any{"10.0.0.0/16"}}}})
	def := "/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/policyDefinitions/env-tag"
	e.put(t, def, "2023-04-01", map[string]any{"properties": map[string]any{
		"mode": "Indexed",
		"policyRule": map[string]any{
			"if": map[string]any{"field": "tags['env']", "exists": false},
			"then": map[string]any{"effect": "modify", "details": map[string]any{
				"roleDefinitionIds": []any{contributor},
				"operations":        []any{map[string]any{"operation": "addOrReplace", "field": "tags['env']", "value": "prod"}},
			}},
		}}})
	a := e.assignWithIdentity(t, e.rg("net"), "env-tag", def)
	e.waitIdle(t)
	if got := e.complianceOf(t, vnet, a); got != "NonCompliant" {
		t.Fatalf("before: %q, want NonCompliant", got)
	}
	client := remediationsClient(t, e)
	// The assignment's identity has no role yet: the write is refused and
	// the remediation fails, naming the deployment's error.
	resp, err := client.CreateOrUpdateAtResourceGroup(ctx, "net", "no-role", armpolicyinsights.Remediation{
		Properties: &armpolicyinsights.RemediationProperties{PolicyAssignmentID: to.Ptr(a)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := waitRemediation(t, e, *resp.ID).Properties; *p.ProvisioningState != "Failed" || *p.DeploymentStatus.FailedDeployments != 1 {
		t.Fatalf("remediation without a role: %s %+v", *p.ProvisioningState, *p.DeploymentStatus)
	}
	deps := client.NewListDeploymentsAtResourceGroupPager("net", "no-role", nil, nil)
	dp, err := deps.NextPage(ctx)
	if err != nil || len(dp.Value) != 1 || *dp.Value[0].Status != "Failed" || *dp.Value[0].Error.Code != "AuthorizationFailed" {
		t.Fatalf("deployments without a role: %+v %v", dp.Value, err)
	}
	e.grantContributor(t, a, e.rg("net"))
	resp, err = client.CreateOrUpdateAtResourceGroup(ctx, "net", "tag-env", armpolicyinsights.Remediation{
		Properties: &armpolicyinsights.RemediationProperties{PolicyAssignmentID: to.Ptr(a),
			ResourceDiscoveryMode: to.Ptr(armpolicyinsights.ResourceDiscoveryModeReEvaluateCompliance)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := waitRemediation(t, e, *resp.ID).Properties; *p.ProvisioningState != "Succeeded" || *p.DeploymentStatus.SuccessfulDeployments != 1 {
		_, b := e.do(t, http.MethodPost, e.rg("net")+"/providers/Microsoft.PolicyInsights/remediations/tag-env/listDeployments?api-version=2021-10-01", nil)
		t.Fatalf("remediation: %s, deployments %s", *p.ProvisioningState, b)
	}
	code, b := e.do(t, http.MethodGet, vnet+"?api-version=2023-04-01", nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"env":"prod"`) || !strings.Contains(string(b), "10.0.0.0/16") {
		t.Fatalf("vnet after: %d %s", code, b)
	}
	if got := e.complianceOf(t, vnet, a); got != "Compliant" {
		t.Fatalf("after: %q, want Compliant", got)
	}
}

// TestRemediationBadInput: what a remediation PUT refuses.
func TestRemediationBadInput(t *testing.T) {
	e := newEnv(t, insights.Options{})
	e.put(t, e.rg("bad"), "2021-04-01", map[string]any{"location": "westeurope"})
	def := e.httpsDefinition(t, "https")
	a := e.assign(t, e.rg("bad"), "audit", def, nil)
	base := e.rg("bad") + "/providers/Microsoft.PolicyInsights/remediations/r1?api-version=2021-10-01"
	for _, c := range []struct {
		name string
		body any
		code string
	}{
		{"no properties", map[string]any{}, "InvalidRequestContent"},
		{"no assignment", map[string]any{"properties": map[string]any{}}, "InvalidRequestContent"},
		{"unknown assignment", map[string]any{"properties": map[string]any{"policyAssignmentId": e.rg("bad") + "/providers/Microsoft.Authorization/policyAssignments/nope"}}, "PolicyAssignmentNotFound"},
		{"bad mode", map[string]any{"properties": map[string]any{"policyAssignmentId": a, "resourceDiscoveryMode": "Sometimes"}}, "InvalidRequestContent"},
		{"resourceCount 0", map[string]any{"properties": map[string]any{"policyAssignmentId": a, "resourceCount": 0}}, "InvalidRequestContent"},
		{"resourceCount 1.5", map[string]any{"properties": map[string]any{"policyAssignmentId": a, "resourceCount": 1.5}}, "InvalidRequestContent"},
		{"parallel 31", map[string]any{"properties": map[string]any{"policyAssignmentId": a, "parallelDeployments": 31}}, "InvalidRequestContent"},
		{"threshold 2", map[string]any{"properties": map[string]any{"policyAssignmentId": a, "failureThreshold": map[string]any{"percentage": 2}}}, "InvalidRequestContent"},
		{"locations not array", map[string]any{"properties": map[string]any{"policyAssignmentId": a, "filters": map[string]any{"locations": "westeurope"}}}, "InvalidRequestContent"},
	} {
		code, b := e.do(t, http.MethodPut, base, c.body)
		if code != http.StatusBadRequest || !strings.Contains(string(b), `"code":"`+c.code+`"`) {
			t.Errorf("%s: %d %s, want 400 %s", c.name, code, b, c.code)
		}
	}
	code, b := e.do(t, http.MethodPost, e.rg("bad")+"/providers/Microsoft.PolicyInsights/remediations/absent/listDeployments?api-version=2021-10-01", nil)
	if code != http.StatusNotFound {
		t.Errorf("listDeployments of a missing remediation: %d %s", code, b)
	}
	// A deployIfNotExists assignment without a managed identity has no one
	// to deploy as.
	e.put(t, e.rg("bad")+"/providers/Microsoft.Web/serverfarms/f1", "2023-01-01", map[string]any{"location": "westeurope"})
	noID := e.assign(t, e.rg("bad"), "dine-no-identity", e.dineDefinition(t), nil)
	e.waitIdle(t)
	code, b = e.do(t, http.MethodPut, base, map[string]any{"properties": map[string]any{"policyAssignmentId": noID}})
	if code != http.StatusBadRequest || !strings.Contains(string(b), "InvalidCreateRemediationRequest") {
		t.Errorf("assignment without identity: %d %s", code, b)
	}
	// An audit assignment has nothing to remediate: Succeeded, no deployment.
	code, b = e.do(t, http.MethodPut, base, map[string]any{"properties": map[string]any{"policyAssignmentId": a}})
	if code != http.StatusCreated {
		t.Fatalf("audit remediation: %d %s", code, b)
	}
	if p := waitRemediation(t, e, strings.TrimSuffix(base, "?api-version=2021-10-01")).Properties; *p.ProvisioningState != "Succeeded" || *p.DeploymentStatus.TotalDeployments != 0 {
		t.Errorf("audit remediation: %s %+v", *p.ProvisioningState, *p.DeploymentStatus)
	}
}

// TestRemediationFailureThreshold: the assignment's identity has no role,
// so every deployment fails; with failureThreshold 0 and one deployment
// at a time the task stops after the first failure of three and says why.
func TestRemediationFailureThreshold(t *testing.T) {
	e := newEnv(t, insights.Options{})
	e.put(t, e.rg("farms"), "2021-04-01", map[string]any{"location": "westeurope"})
	for _, n := range []string{"f1", "f2", "f3"} {
		e.put(t, e.rg("farms")+"/providers/Microsoft.Web/serverfarms/"+n, "2023-01-01", map[string]any{"location": "westeurope"})
	}
	a := e.assignWithIdentity(t, e.rg("farms"), "farm-site", e.dineDefinition(t))
	e.waitIdle(t)
	code, b := e.do(t, http.MethodPut, e.rg("farms")+"/providers/Microsoft.PolicyInsights/remediations/r?api-version=2021-10-01",
		map[string]any{"properties": map[string]any{"policyAssignmentId": a, "parallelDeployments": 1,
			"failureThreshold": map[string]any{"percentage": 0}}})
	if code != http.StatusCreated {
		t.Fatalf("%d %s", code, b)
	}
	rems := e.rg("farms") + "/providers/Microsoft.PolicyInsights/remediations/"
	// The task counts the resources it means to remediate (three) and stops
	// after the first failure.
	p := waitRemediation(t, e, rems+"r").Properties
	if *p.ProvisioningState != "Failed" || *p.DeploymentStatus.TotalDeployments != 3 || *p.DeploymentStatus.FailedDeployments != 1 ||
		*p.DeploymentStatus.SuccessfulDeployments != 0 || !strings.Contains(*p.StatusMessage, "failure threshold") {
		t.Fatalf("%s %+v %s", *p.ProvisioningState, *p.DeploymentStatus, *p.StatusMessage)
	}
	// Without a threshold every resource is tried, up to resourceCount.
	code, b = e.do(t, http.MethodPut, e.rg("farms")+"/providers/Microsoft.PolicyInsights/remediations/all?api-version=2021-10-01",
		map[string]any{"properties": map[string]any{"policyAssignmentId": a, "resourceCount": 2}})
	if code != http.StatusCreated {
		t.Fatalf("%d %s", code, b)
	}
	if p := waitRemediation(t, e, rems+"all").Properties; *p.DeploymentStatus.FailedDeployments != 2 || *p.ProvisioningState != "Failed" {
		t.Fatalf("%s %+v", *p.ProvisioningState, *p.DeploymentStatus)
	}
	// With the role, three deployments at once all succeed.
	e.grantContributor(t, a, e.rg("farms"))
	code, b = e.do(t, http.MethodPut, e.rg("farms")+"/providers/Microsoft.PolicyInsights/remediations/parallel?api-version=2021-10-01",
		map[string]any{"properties": map[string]any{"policyAssignmentId": a, "parallelDeployments": 3}})
	if code != http.StatusCreated {
		t.Fatalf("%d %s", code, b)
	}
	if p := waitRemediation(t, e, rems+"parallel").Properties; *p.ProvisioningState != "Succeeded" || *p.DeploymentStatus.SuccessfulDeployments != 3 {
		t.Fatalf("%s %+v", *p.ProvisioningState, *p.DeploymentStatus)
	}
	for _, n := range []string{"f1", "f2", "f3"} {
		if code, b := e.do(t, http.MethodGet, e.rg("farms")+"/providers/Microsoft.Web/sites/"+n+"-site?api-version=2023-01-01", nil); code != http.StatusOK {
			t.Errorf("site of %s: %d %s", n, code, b)
		}
	}
}

// TestRemediationAccess: listing a remediation's deployments is a read
// (Reader may); creating and canceling are not.
func TestRemediationAccess(t *testing.T) {
	e := newEnv(t, insights.Options{})
	ctx := t.Context()
	e.put(t, e.rg("acc"), "2021-04-01", map[string]any{"location": "westeurope"})
	a := e.assign(t, e.rg("acc"), "audit", e.httpsDefinition(t, "https"), nil)
	rem := e.rg("acc") + "/providers/Microsoft.PolicyInsights/remediations/r"
	e.put(t, rem, "2021-10-01", map[string]any{"properties": map[string]any{"policyAssignmentId": a}})
	app, sp, err := e.s.Identity.CreateApplication(ctx, e.s.Bootstrap.TenantID, "auditor")
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := e.s.Identity.AddClientSecret(ctx, e.s.Bootstrap.TenantID, app.AppID, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.s.Identity.Token(ctx, identity.TokenRequest{Tenant: e.s.Bootstrap.TenantID, ClientID: app.AppID,
		ClientSecret: secret, Scope: "https://management.azure.com/.default", Authorities: []string{e.s.BaseURL}})
	if err != nil {
		t.Fatal(err)
	}
	as := func(method, path string, body string) int {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, strings.TrimSuffix(e.s.BaseURL, "/")+path+"?api-version=2021-10-01", rd)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.s.Transport().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := as(http.MethodPost, rem+"/listDeployments", ""); code != http.StatusForbidden {
		t.Errorf("listDeployments without a role: %d, want 403", code)
	}
	sub := "/subscriptions/" + e.sub
	reader := sub + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
	e.put(t, sub+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString(), "2022-04-01",
		map[string]any{"properties": map[string]any{"roleDefinitionId": reader, "principalId": sp.ID, "principalType": "ServicePrincipal"}})
	if code := as(http.MethodPost, rem+"/listDeployments", ""); code != http.StatusOK {
		t.Errorf("listDeployments as Reader: %d, want 200", code)
	}
	if code := as(http.MethodGet, rem, ""); code != http.StatusOK {
		t.Errorf("get as Reader: %d, want 200", code)
	}
	if code := as(http.MethodPost, rem+"/cancel", ""); code != http.StatusForbidden {
		t.Errorf("cancel as Reader: %d, want 403", code)
	}
	if code := as(http.MethodPut, e.rg("acc")+"/providers/Microsoft.PolicyInsights/remediations/r2", `{"properties":{"policyAssignmentId":"`+a+`"}}`); code != http.StatusForbidden {
		t.Errorf("create as Reader: %d, want 403", code)
	}
}

// TestSDKRemediationAtManagementGroup: a deployIfNotExists assignment at a
// management group is remediated there, for the farms of the subscription
// under it.
func TestSDKRemediationAtManagementGroup(t *testing.T) {
	e := newEnv(t, insights.Options{})
	ctx := context.Background()
	mg := "/providers/Microsoft.Management/managementGroups/platform"
	e.put(t, mg, "2021-04-01", map[string]any{"properties": map[string]any{"displayName": "Platform"}})
	e.put(t, mg+"/subscriptions/"+e.sub, "2021-04-01", nil)
	e.put(t, e.rg("apps"), "2021-04-01", map[string]any{"location": "westeurope"})
	farm := e.rg("apps") + "/providers/Microsoft.Web/serverfarms/farm1"
	e.put(t, farm, "2023-01-01", map[string]any{"location": "westeurope"})
	code, b := e.do(t, http.MethodGet, e.dineDefinition(t)+"?api-version=2023-04-01", nil)
	var doc map[string]any
	if code != http.StatusOK || json.Unmarshal(b, &doc) != nil {
		t.Fatalf("definition: %d %s", code, b)
	}
	mgDef := mg + "/providers/Microsoft.Authorization/policyDefinitions/farm-site"
	e.put(t, mgDef, "2023-04-01", map[string]any{"properties": doc["properties"]})
	a := e.assignWithIdentity(t, mg, "farm-site", mgDef)
	e.grantContributor(t, a, e.rg("apps"))
	e.waitIdle(t)
	client := remediationsClient(t, e)
	resp, err := client.CreateOrUpdateAtManagementGroup(ctx, "platform", "fix", armpolicyinsights.Remediation{
		Properties: &armpolicyinsights.RemediationProperties{PolicyAssignmentID: to.Ptr(a)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := waitRemediation(t, e, *resp.ID).Properties; *p.ProvisioningState != "Succeeded" || *p.DeploymentStatus.SuccessfulDeployments != 1 {
		t.Fatalf("remediation: %s %+v", *p.ProvisioningState, *p.DeploymentStatus)
	}
	if got := e.complianceOf(t, farm, a); got != "Compliant" {
		t.Fatalf("after: %q, want Compliant", got)
	}
	pager := client.NewListForManagementGroupPager("platform", nil, nil)
	if page, err := pager.NextPage(ctx); err != nil || len(page.Value) != 1 {
		t.Fatalf("list at the group: %+v %v", page.Value, err)
	}
}

// gateSites makes every write of a Microsoft.Web/sites wait at the gate
// until the test opens it, and reports each arrival: the test decides
// when a remediation's deployment finishes.
type gate struct {
	arrived chan string
	open    chan struct{}
}

func gateSites(e *env) *gate {
	g := &gate{arrived: make(chan string, 100), open: make(chan struct{})}
	e.s.Cloud.OnPut("Microsoft.Web/sites", func(ctx context.Context, id string, _, _ map[string]any) error {
		g.arrived <- id
		select {
		case <-g.open:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	return g
}

// arrival waits for the next write at the gate.
func (g *gate) arrival(t testing.TB) string {
	t.Helper()
	select {
	case id := <-g.arrived:
		return id
	case <-time.After(2 * time.Minute):
		t.Fatal("no deployment reached the gate")
		return ""
	}
}

// TestRemediationRunsInBackgroundAndCancels: the PUT answers Accepted
// while the first of three deployments is held; GET shows Running with the
// count; cancel answers Cancelling, no further deployment starts, and the
// task ends Canceled with the one deployment that ran. Canceling it again
// is refused, as is canceling an ended one on Azure.
func TestRemediationRunsInBackgroundAndCancels(t *testing.T) {
	e := newEnv(t, insights.Options{})
	e.put(t, e.rg("farms"), "2021-04-01", map[string]any{"location": "westeurope"})
	for _, n := range []string{"f1", "f2", "f3"} {
		e.put(t, e.rg("farms")+"/providers/Microsoft.Web/serverfarms/"+n, "2023-01-01", map[string]any{"location": "westeurope"})
	}
	a := e.assignWithIdentity(t, e.rg("farms"), "farm-site", e.dineDefinition(t))
	e.grantContributor(t, a, e.rg("farms"))
	e.waitIdle(t)
	g := gateSites(e)
	rem := e.rg("farms") + "/providers/Microsoft.PolicyInsights/remediations/slow"
	code, b := e.do(t, http.MethodPut, rem+"?api-version=2021-10-01", map[string]any{"properties": map[string]any{"policyAssignmentId": a, "parallelDeployments": 1}})
	if code != http.StatusCreated || !strings.Contains(string(b), `"provisioningState":"Accepted"`) {
		t.Fatalf("PUT: %d %s", code, b)
	}
	first := g.arrival(t)
	code, b = e.do(t, http.MethodGet, rem+"?api-version=2021-10-01", nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"provisioningState":"Running"`) || !strings.Contains(string(b), `"totalDeployments":3`) {
		t.Fatalf("GET while running: %d %s", code, b)
	}
	code, b = e.do(t, http.MethodPut, rem+"?api-version=2021-10-01", map[string]any{"properties": map[string]any{"policyAssignmentId": a}})
	if code != http.StatusConflict || !strings.Contains(string(b), "RemediationInProgress") {
		t.Errorf("PUT over a running remediation: %d %s", code, b)
	}
	client := remediationsClient(t, e)
	ctx := context.Background()
	cr, err := client.CancelAtResourceGroup(ctx, "farms", "slow", nil)
	if err != nil || *cr.Properties.ProvisioningState != "Cancelling" {
		t.Fatalf("cancel: %v %+v", err, cr.Properties)
	}
	close(g.open)
	p := waitRemediation(t, e, rem).Properties
	if *p.ProvisioningState != "Canceled" || *p.DeploymentStatus.SuccessfulDeployments != 1 || *p.DeploymentStatus.TotalDeployments != 3 {
		t.Fatalf("after cancel: %s %+v", *p.ProvisioningState, *p.DeploymentStatus)
	}
	select {
	case id := <-g.arrived:
		t.Errorf("a deployment started after the cancel: %s", id)
	default:
	}
	pager := client.NewListDeploymentsAtResourceGroupPager("farms", "slow", nil, nil)
	page, err := pager.NextPage(ctx)
	if err != nil || len(page.Value) != 1 || *page.Value[0].Status != "Succeeded" || !strings.HasPrefix(strings.ToLower(first), strings.ToLower(e.rg("farms"))) {
		t.Fatalf("deployments: %+v %v", page.Value, err)
	}
	var re *azcore.ResponseError
	if _, err := client.CancelAtResourceGroup(ctx, "farms", "slow", nil); !errors.As(err, &re) || re.ErrorCode != "InvalidCancelRemediationRequest" {
		t.Errorf("cancel of a canceled remediation: %v", err)
	}
}

// TestRemediationResumesAfterStop: the compliance engine stops (as a
// replica that goes away) while a remediation's deployment is held; the
// task is not lost: when the engine runs again it takes the task up and
// remediates every resource.
func TestRemediationResumesAfterStop(t *testing.T) {
	e := newEnv(t, insights.Options{LeaseTTL: 2 * time.Second})
	e.put(t, e.rg("farms"), "2021-04-01", map[string]any{"location": "westeurope"})
	for _, n := range []string{"f1", "f2"} {
		e.put(t, e.rg("farms")+"/providers/Microsoft.Web/serverfarms/"+n, "2023-01-01", map[string]any{"location": "westeurope"})
	}
	a := e.assignWithIdentity(t, e.rg("farms"), "farm-site", e.dineDefinition(t))
	e.grantContributor(t, a, e.rg("farms"))
	e.waitIdle(t)
	g := gateSites(e)
	rem := e.rg("farms") + "/providers/Microsoft.PolicyInsights/remediations/resumed"
	if code, b := e.do(t, http.MethodPut, rem+"?api-version=2021-10-01", map[string]any{"properties": map[string]any{"policyAssignmentId": a, "parallelDeployments": 1}}); code != http.StatusCreated {
		t.Fatalf("PUT: %d %s", code, b)
	}
	g.arrival(t)
	stopped := make(chan struct{})
	go func() {
		e.engine.Stop()
		close(stopped)
	}()
	close(g.open) // the held deployment ends; the stopped runner records nothing more
	<-stopped
	code, b := e.do(t, http.MethodGet, rem+"?api-version=2021-10-01", nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"provisioningState":"Running"`) {
		t.Fatalf("after the stop: %d %s", code, b)
	}
	e.engine.Start(context.Background())
	p := waitRemediation(t, e, rem).Properties
	if *p.ProvisioningState != "Succeeded" || *p.DeploymentStatus.SuccessfulDeployments != 2 || *p.DeploymentStatus.FailedDeployments != 0 {
		t.Fatalf("after the restart: %s %+v", *p.ProvisioningState, *p.DeploymentStatus)
	}
	for _, n := range []string{"f1", "f2"} {
		if code, b := e.do(t, http.MethodGet, e.rg("farms")+"/providers/Microsoft.Web/sites/"+n+"-site?api-version=2023-01-01", nil); code != http.StatusOK {
			t.Errorf("site of %s: %d %s", n, code, b)
		}
	}
}
