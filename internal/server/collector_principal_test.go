package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/collector"
	"github.com/steward-gov/steward/internal/rbac"
)

// TestCollectorServeReadsAsItsOwnPrincipal: `steward serve`'s collector
// signs in as its own application, not the administrator. A customer
// deploys two applications of a publisher: one from a definition whose
// authorizations give the collector's principal Reader, one from a
// definition that does not name it. The first is registered and collected;
// the second is recorded and reported Inaccessible, and none of its states
// reach the workspace, although the administrator could read them. When
// the grant on the first one's managed resource group goes, the next run
// reports it Inaccessible too (ARM's 403), without retrying it.
func TestCollectorServeReadsAsItsOwnPrincipal(t *testing.T) {
	dir := t.TempDir()
	var eng *insights.Engine
	s, _ := startSteward(t, dir, CloudService(managedAppsCloud(t, &eng)), StorageService(), LogsService(), AlertsService(AlertsOptions{Disabled: true}),
		VaultService(VaultOptions{}), CollectorServeService(CollectorServeOptions{Disabled: true, ReconcileDisabled: true}))
	e := newLogsEnvFor(t, s, dir)
	ce := &collectorEnv{logsEnv: e}
	ctx := context.Background()
	base := strings.TrimSuffix(s.BaseURL, "/")
	call := adminCall(t, e, base)

	code, st := call("GET", "/collector/api/status")
	p, _ := st["principal"].(map[string]any)
	collectorOID, _ := p["objectId"].(string)
	notifyURL, _ := st["notificationUrl"].(string)
	if code != 200 || collectorOID == "" || collectorOID == e.info.ObjectID || notifyURL == "" {
		t.Fatalf("status: %d %v", code, st)
	}

	pub := ce.actor(t, "Contoso Publisher", "contoso-ops")
	cust := ce.actor(t, "Fabrikam", "fabrikam-ops")
	ce.subscription(t, pubSub, pub)
	ce.subscription(t, subA, cust)
	put(t, pub.res(pubSub), "/subscriptions/"+pubSub+"/resourceGroups/offers", "2021-04-01", armresources.GenericResource{Location: to.Ptr("westeurope")})
	put(t, cust.res(subA), "/subscriptions/"+subA+"/resourceGroups/apps", "2021-04-01", armresources.GenericResource{Location: to.Ptr("westeurope")})

	// Two definitions, alike but for the collector's authorization.
	tmpl := map[string]any{
		"$schema":        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion": "1.0.0.0",
		"resources": []any{map[string]any{
			"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "nsg",
			"location": "[resourceGroup().location]", "properties": map[string]any{"securityRules": []any{}}}},
	}
	defID := func(name string) string {
		return "/subscriptions/" + pubSub + "/resourceGroups/offers/providers/Microsoft.Solutions/applicationDefinitions/" + name
	}
	for name, auths := range map[string][]any{
		"authorized": {map[string]any{"principalId": pub.id, "roleDefinitionId": rbac.ContributorRoleID},
			map[string]any{"principalId": collectorOID, "roleDefinitionId": rbac.ReaderRoleID}},
		"unauthorized": {map[string]any{"principalId": pub.id, "roleDefinitionId": rbac.ContributorRoleID}},
	} {
		put(t, pub.res(pubSub), defID(name), collector.SolutionsAPIVersion, armresources.GenericResource{Location: to.Ptr("westeurope"), Properties: map[string]any{
			"lockLevel": "ReadOnly", "displayName": name, "mainTemplate": tmpl,
			"createUiDefinition": map[string]any{"handler": "Microsoft.Azure.CreateUIDef", "version": "0.1.2-preview", "parameters": map[string]any{}},
			"authorizations":     auths,
			"policies": []any{map[string]any{"name": "audit-env-tag", "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/0a914e76-4921-4c19-b460-a2d36003525a",
				"parameters": `{"tagName":{"value":"env"}}`}},
			"notificationPolicy": map[string]any{"notificationEndpoints": []any{map[string]any{"uri": notifyURL}}},
		}})
		doc := rbac.RoleAssignmentDocument(defID(name), rbac.ReaderRoleID, cust.id, "ServicePrincipal")
		id, _ := doc["id"].(string)
		if _, _, err := s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: id, Type: cloud.TypeRoleAssignment, Doc: doc}); err != nil {
			t.Fatal(err)
		}
	}
	apps := map[string]seedApp{"yes": {sub: subA, name: "app-yes", owner: cust}, "no": {sub: subA, name: "app-no", owner: cust}}
	for def, a := range map[string]seedApp{"authorized": apps["yes"], "unauthorized": apps["no"]} {
		put(t, cust.res(subA), a.id(), collector.SolutionsAPIVersion, armresources.GenericResource{
			Location: to.Ptr("westeurope"), Kind: to.Ptr("ServiceCatalog"), Properties: map[string]any{
				"applicationDefinitionId": defID(def), "managedResourceGroupId": a.mrg()}})
	}

	// The notifications register app-yes as its GET returned it and
	// app-no as Inaccessible.
	deployments := func() map[string]string {
		t.Helper()
		var list []collector.Deployment
		if err := getJSON(t, e, base+"/collector/api/deployments", &list); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, d := range list {
			got[d.Name] = d.ProvisioningState
		}
		return got
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		got := deployments()
		if got["app-yes"] == collector.StateSucceeded && got["app-no"] == collector.StateInaccessible {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the notifications registered %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Both managed resource groups have their states (the administrator
	// can read either; the collector only app-yes's).
	pis, err := armpolicyinsights.NewPolicyStatesClient(e.cred, armOptions(e))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		for deadline := time.Now().Add(30 * time.Second); ; {
			page, err := pis.NewListQueryResultsForResourceGroupPager(armpolicyinsights.PolicyStatesResourceLatest, a.sub, "mrg-"+a.name, nil, nil).NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Value) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no policy state in %s", a.mrg())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	run := func() (map[string]any, map[string]bool) {
		t.Helper()
		code, out := call("POST", "/collector/api/runs")
		if code != 200 {
			t.Fatalf("run: %d %v", code, out)
		}
		r, _ := out["run"].(map[string]any)
		inaccessible := map[string]bool{}
		fails, _ := out["failures"].([]any)
		for _, f := range fails {
			m, _ := f.(map[string]any)
			id, _ := m["applicationId"].(string)
			if m["inaccessible"] != true {
				t.Fatalf("a failure that is not Inaccessible: %v", m)
			}
			inaccessible[strings.ToLower(id[strings.LastIndex(id, "/")+1:])] = true
		}
		return r, inaccessible
	}
	r1, inacc := run()
	if r1["deployments"] != 1.0 || r1["collected"] != 1.0 || r1["failed"] != 0.0 || r1["inaccessible"] != 1.0 || len(inacc) != 1 || !inacc["app-no"] {
		t.Fatalf("first run: %v, inaccessible %v", r1, inacc)
	}
	rows := workspaceRows(t, e, base, `PolicyComplianceStates_CL | summarize n = count() by ApplicationId, ComplianceState`)
	if len(rows) != 1 || !strings.HasSuffix(strings.ToLower(rows[0][0].(string)), "/applications/app-yes") || rows[0][1] != "NonCompliant" {
		t.Fatalf("rows in the collector's workspace: %v (want app-yes's only)", rows)
	}

	// The collector's grant on app-yes's managed resource group goes (as
	// when a publisher's access is withdrawn): ARM refuses the next read,
	// and the run reports it Inaccessible at once.
	grants, _, err := s.Cloud.List(ctx, cloud.ListQuery{Type: cloud.TypeRoleAssignment, Limit: 1000, Keep: func(r cloud.Resource) bool {
		props, _ := r.Doc["properties"].(map[string]any)
		return props["principalId"] == collectorOID && strings.HasPrefix(strings.ToLower(r.ID), strings.ToLower(apps["yes"].mrg())+"/")
	}})
	if err != nil || len(grants) != 1 {
		t.Fatalf("the collector's grants on %s: %d %v", apps["yes"].mrg(), len(grants), err)
	}
	if _, _, err := s.Cloud.Delete(ctx, nil, cloud.DeleteRequest{ID: grants[0].ID}); err != nil {
		t.Fatal(err)
	}
	r2, inacc := run()
	if r2["deployments"] != 1.0 || r2["collected"] != 0.0 || r2["failed"] != 0.0 || r2["inaccessible"] != 2.0 || !inacc["app-yes"] || !inacc["app-no"] {
		t.Fatalf("run after the grant went: %v, inaccessible %v", r2, inacc)
	}
	if got := deployments(); got["app-yes"] != collector.StateInaccessible {
		t.Fatalf("app-yes after the refused run: %v", got)
	}
}

// armOptions are the administrator's ARM client options of e.
func armOptions(e *logsEnv) *azarm.ClientOptions {
	o := azarm.ClientOptions{ClientOptions: e.opts}
	o.Cloud.Services = map[azcloud.ServiceName]azcloud.ServiceConfiguration{
		azcloud.ResourceManager: {Endpoint: e.s.BaseURL, Audience: "https://management.azure.com"}}
	return &o
}

// workspaceRows runs a KQL query, as the administrator, on the workspace
// of `steward serve`'s collector.
func workspaceRows(t *testing.T, e *logsEnv, base, q string) [][]any {
	t.Helper()
	opts := query.ClientOptions{ClientOptions: e.opts}
	opts.Cloud.Services = map[azcloud.ServiceName]azcloud.ServiceConfiguration{query.ServiceName: {Endpoint: base + "/v1", Audience: LogAnalyticsAudience}}
	c, err := query.NewClient(e.cred, &opts)
	if err != nil {
		t.Fatal(err)
	}
	ws := "/subscriptions/" + e.sub + "/resourceGroups/" + CollectorResourceGroup + "/providers/Microsoft.OperationalInsights/workspaces/" + CollectorWorkspace
	return queryRows(t, c, ws, q)
}

// getJSON GETs u as the administrator of e and decodes the answer.
func getJSON(t *testing.T, e *logsEnv, u string, out any) error {
	t.Helper()
	tok, err := e.cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: armScope})
	if err != nil {
		return err
	}
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
