package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	ingest "github.com/Azure/azure-sdk-for-go/sdk/monitor/ingestion/azlogs"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"

	"github.com/steward-gov/steward/internal/alerts"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/authorization"
	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/cloud/policyprovider"
	"github.com/steward-gov/steward/internal/cloud/solutions"
	"github.com/steward-gov/steward/internal/collector"
)

// collectorEnv is a Steward with the collector's infrastructure: the
// workspace and its PolicyComplianceStates_CL table, the DCE and DCR, the
// inventory table, and a collector reading through the Azure SDK.
type collectorEnv struct {
	*logsEnv
	plane     *CollectorPlane
	alerts    *alerts.Service
	clock     *fakeClock
	inventory *collector.TableInventory
	apps      *collector.Applications
	coll      *collector.Collector
	workspace string
	// endpoint and ruleID are the DCE's ingestion endpoint and the DCR's
	// immutable ID the collector uploads to.
	endpoint, ruleID string
	query            *query.Client
	armOpts          *azarm.ClientOptions
	collOpts         collector.Options
	dir              string
	vault            *VaultPlane
	// insights is the embedded Policy Insights engine.
	insights *insights.Engine
}

func newCollectorEnv(t *testing.T) *collectorEnv {
	t.Helper()
	return newCollectorEnvOn(t, "")
}

// newCollectorEnvOn is newCollectorEnv on the store at storeURL (the data
// directory's SQLite file when empty).
func newCollectorEnvOn(t *testing.T, storeURL string) *collectorEnv {
	t.Helper()
	clock := &fakeClock{now: time.Now()}
	ce := &collectorEnv{clock: clock}
	dir := t.TempDir()
	setup := managedAppsCloud(t, &ce.insights)
	cfg := testConfig(dir)
	cfg.StoreURL = storeURL
	s, _ := startStewardWith(t, cfg, CloudService(setup), StorageService(), LogsService(),
		AlertsService(AlertsOptions{Now: clock.Now, Disabled: true}, func(a *alerts.Service) { ce.alerts = a }),
		VaultService(VaultOptions{}, func(p *VaultPlane) { ce.vault = p }),
		CollectorService(func(p *CollectorPlane) { ce.plane = p }))
	e := newLogsEnvFor(t, s, dir)
	ce.logsEnv = e
	ce.dir = dir
	ctx := context.Background()
	sub := e.sub
	rg := "/subscriptions/" + sub + "/resourceGroups/publisher"
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})

	// Logs: workspace, table, DCE, DCR, and the publisher's right to send.
	ws := rg + "/providers/Microsoft.OperationalInsights/workspaces/compliance"
	e.mustARM(t, "PUT", ws, "2022-10-01", map[string]any{"location": "eastus", "properties": map[string]any{}})
	var cols []any
	for _, c := range collector.Columns {
		cols = append(cols, map[string]any{"name": c.Name, "type": c.Type})
	}
	e.mustARM(t, "PUT", ws+"/tables/"+collector.Table, "2022-10-01", map[string]any{"properties": map[string]any{
		"schema": map[string]any{"name": collector.Table, "columns": cols}}})
	dceID := rg + "/providers/Microsoft.Insights/dataCollectionEndpoints/collector"
	dce := e.mustARM(t, "PUT", dceID, "2022-06-01", map[string]any{"location": "eastus", "properties": map[string]any{}})
	endpoint, _ := props(dce)["logsIngestion"].(map[string]any)["endpoint"].(string)
	dcrID := rg + "/providers/Microsoft.Insights/dataCollectionRules/collector"
	dcr := e.mustARM(t, "PUT", dcrID, "2022-06-01", map[string]any{"location": "eastus", "properties": map[string]any{
		"dataCollectionEndpointId": dceID,
		"streamDeclarations":       map[string]any{collector.Stream: map[string]any{"columns": cols}},
		"destinations":             map[string]any{"logAnalytics": []any{map[string]any{"name": "ws", "workspaceResourceId": ws}}},
		"dataFlows": []any{map[string]any{"streams": []any{collector.Stream}, "destinations": []any{"ws"},
			"transformKql": "source", "outputStream": collector.Stream}}}})
	immutableID, _ := props(dcr)["immutableId"].(string)
	role := func(scope, roleID, name string) {
		e.mustARM(t, "PUT", scope+"/providers/Microsoft.Authorization/roleAssignments/"+name, "2022-04-01",
			map[string]any{"properties": map[string]any{
				"roleDefinitionId": "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleDefinitions/" + roleID,
				"principalId":      e.info.ObjectID, "principalType": "ServicePrincipal"}})
	}
	role(dcrID, "3913510d-42f4-4e42-8a64-420c390055eb", "6a1d0c3e-7f41-4b8e-a0c2-3e5b7d9f1a21")

	// The inventory: a storage account's table, with a data role.
	account := rg + "/providers/Microsoft.Storage/storageAccounts/publisherinventory"
	code, out := e.arm(t, "PUT", account, "2023-01-01", map[string]any{"location": "eastus", "kind": "StorageV2", "sku": map[string]any{"name": "Standard_LRS"}})
	if code >= 300 {
		t.Fatalf("storage account: %d %v", code, out)
	}
	role(account, "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "7b2e1d4f-8a52-4c9f-b1d3-4f6c8e0a2b32")
	sdk, err := newCollectorSDK(s.BaseURL, e.cred, e.opts, endpoint, immutableID, ws)
	if err != nil {
		t.Fatal(err)
	}
	ce.inventory, ce.query = sdk.inventory, sdk.query
	ce.armOpts = &sdk.arm
	if ce.apps, err = collector.NewApplications(e.cred, ce.armOpts); err != nil {
		t.Fatal(err)
	}
	ce.workspace, ce.endpoint, ce.ruleID = ws, endpoint, immutableID
	ce.collOpts = collector.Options{
		Store: s.Store, Inventory: ce.inventory, ARM: *ce.armOpts,
		Principal: func(string) (collector.Principal, error) {
			return collector.Principal{Name: e.info.ClientID, Credential: e.cred}, nil
		},
		Upload: sdk.upload, Verify: sdk.verify, Now: clock.Now,
	}
	ce.coll, err = collector.New(ce.collOpts)
	if err != nil {
		t.Fatal(err)
	}
	ce.plane.SetNotifications(&collector.Notifications{Sig: "s3cret", Apps: ce.apps, Inventory: ce.inventory, Now: clock.Now})
	_ = ctx
	return ce
}

// managedAppsCloud is the CloudService set-up of the collector's tests:
// authorization, policy (with the auditEnvTag built-in), managed
// applications delivering their notifications in process, and Policy
// Insights evaluating in the background (set in *eng).
func managedAppsCloud(t *testing.T, eng **insights.Engine) func(ctx context.Context, s *Steward, c *cloud.Cloud) error {
	t.Helper()
	builtins := filepath.Join(t.TempDir(), "policyDefinitions")
	if err := os.MkdirAll(builtins, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(builtins, "audit.json"), []byte(auditEnvTag), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context, s *Steward, c *cloud.Cloud) error {
		if err := authorization.Register(c); err != nil {
			return err
		}
		p, err := policyprovider.Register(c, policyprovider.Options{BuiltInDir: filepath.Dir(builtins)})
		if err != nil {
			return err
		}
		sol, err := solutions.Register(c, solutions.Options{Client: &http.Client{Transport: s.Transport(), Timeout: 30 * time.Second},
			Poll: 5 * time.Millisecond, Retry: solutions.RetryPolicy{Base: 5 * time.Millisecond, Max: 20 * time.Millisecond, GiveUp: time.Hour}})
		if err != nil {
			return err
		}
		sol.Start(ctx)
		e := insights.New(c, insights.Options{Assignments: p.Assignments, Cycle: 24 * time.Hour})
		if err := e.Mount(); err != nil {
			return err
		}
		e.Start(ctx)
		*eng = e
		return nil
	}
}

// auditEnvTag is the built-in definition the managed application's
// definition assigns: resources need an env tag.
const auditEnvTag = `{"name":"0a914e76-4921-4c19-b460-a2d36003525a","properties":{"displayName":"Audit resources without an env tag","policyType":"BuiltIn","mode":"Indexed",
	"parameters":{"tagName":{"type":"String"}},
	"policyRule":{"if":{"field":"[concat('tags[', parameters('tagName'), ']')]","exists":"false"},"then":{"effect":"audit"}}}}`

// tableOptions reach the Table service with Entra tokens.
func (ce *collectorEnv) tableOptions() *aztables.ClientOptions { return tableOptionsFor(ce.opts) }

func tableOptionsFor(o azcore.ClientOptions) *aztables.ClientOptions {
	opts := &aztables.ClientOptions{ClientOptions: o}
	opts.Cloud.Services = map[azcloud.ServiceName]azcloud.ServiceConfiguration{aztables.ServiceName: {Audience: StorageAudience}}
	return opts
}

// collectorSDK is what a collector reaches a Steward with through the
// Azure SDK: the inventory table, the ARM options, the upload to a data
// collection rule and the lookup of a batch in the workspace.
type collectorSDK struct {
	inventory *collector.TableInventory
	arm       azarm.ClientOptions
	upload    func(context.Context, []byte) error
	verify    func(context.Context, string) (int, error)
	query     *query.Client
}

// newCollectorSDK builds the collector's clients for the Steward at
// baseURL, signed in with cred over o: the inventory in the
// publisherinventory account, uploads to the rule ruleID at the data
// collection endpoint endpoint, and lookups in the workspace ws.
func newCollectorSDK(baseURL string, cred azcore.TokenCredential, o azcore.ClientOptions, endpoint, ruleID, ws string) (collectorSDK, error) {
	var sdk collectorSDK
	base := strings.TrimSuffix(baseURL, "/")
	tc, err := aztables.NewClient(base+"/tables/publisherinventory/deployments", cred, tableOptionsFor(o))
	if err != nil {
		return sdk, err
	}
	sdk.inventory = &collector.TableInventory{Client: tc}
	sdk.arm = azarm.ClientOptions{ClientOptions: o}
	sdk.arm.Cloud.Services = map[azcloud.ServiceName]azcloud.ServiceConfiguration{
		azcloud.ResourceManager: {Endpoint: baseURL, Audience: "https://management.azure.com"}}
	ingestOpts := ingest.ClientOptions{ClientOptions: o}
	ingestOpts.Cloud.Services = map[azcloud.ServiceName]azcloud.ServiceConfiguration{ingest.ServiceNameIngestion: {Audience: MonitorAudience}}
	if sdk.upload, err = collector.IngestionUploader(endpoint, cred, ingestOpts, ruleID, collector.Stream); err != nil {
		return sdk, err
	}
	queryOpts := query.ClientOptions{ClientOptions: o}
	queryOpts.Cloud.Services = map[azcloud.ServiceName]azcloud.ServiceConfiguration{
		query.ServiceName: {Endpoint: base + "/v1", Audience: LogAnalyticsAudience}}
	if sdk.verify, err = collector.WorkspaceVerifier(cred, queryOpts, ws, 7*24*time.Hour); err != nil {
		return sdk, err
	}
	sdk.query, err = query.NewClient(cred, &queryOpts)
	return sdk, err
}

// rows runs a KQL query on the collector's workspace.
func (ce *collectorEnv) rows(t *testing.T, q string) [][]any {
	t.Helper()
	return queryRows(t, ce.query, ce.workspace, q)
}

// queryRows runs a KQL query on the workspace ws over 30 days either side
// of now and returns its first table's rows.
func queryRows(t *testing.T, c *query.Client, ws, q string) [][]any {
	t.Helper()
	span := query.NewTimeInterval(time.Now().Add(-30*24*time.Hour), time.Now().Add(30*24*time.Hour))
	resp, err := c.QueryResource(context.Background(), ws, query.QueryBody{Query: &q, Timespan: &span}, nil)
	if err != nil {
		t.Fatalf("query %q: %v", q, err)
	}
	if resp.Error != nil {
		t.Fatalf("query %q: %v", q, resp.Error)
	}
	var out [][]any
	for _, r := range resp.Tables[0].Rows {
		out = append(out, []any(r))
	}
	return out
}

// notify posts a lifecycle notification to Steward's collector endpoint.
func (ce *collectorEnv) notify(t *testing.T, sig string, body map[string]any) (int, map[string]any) {
	t.Helper()
	u := strings.TrimSuffix(ce.s.BaseURL, "/") + CollectorPrefix + "resource?sig=" + sig
	code, out := postJSON(t, ce.client, u, body)
	return code, out
}

// TestCollectorNotificationEndpoint drives the endpoint as Azure would.
func TestCollectorNotificationEndpoint(t *testing.T) {
	ce := newCollectorEnv(t)
	app := "/subscriptions/" + ce.sub + "/resourceGroups/customer/providers/Microsoft.Solutions/applications/app1"
	ev := map[string]any{"eventType": "PUT", "applicationId": app, "eventTime": time.Now().UTC().Format(time.RFC3339Nano), "provisioningState": "Succeeded"}
	tests := []struct {
		name   string
		sig    string
		body   map[string]any
		status int
		code   string
	}{
		{"no sig", "", ev, 401, "InvalidSignature"},
		{"wrong sig", "s3cre", ev, 401, "InvalidSignature"},
		{"unknown eventType", "s3cret", map[string]any{"eventType": "POST", "applicationId": app, "provisioningState": "Succeeded"}, 400, "InvalidEventType"},
		{"state a PATCH never carries", "s3cret", map[string]any{"eventType": "PATCH", "applicationId": app, "provisioningState": "Deleted"}, 400, "InvalidProvisioningState"},
		{"not an application ID", "s3cret", map[string]any{"eventType": "PUT", "applicationId": "/subscriptions/x/resourceGroups/y", "provisioningState": "Succeeded"}, 400, "InvalidApplicationId"},
		// The application does not exist: the event cannot be confirmed,
		// and a 404 is retried by Azure.
		{"unconfirmed PUT", "s3cret", ev, 404, "ResourceNotFound"},
		// A DELETE of an application that is gone removes nothing and
		// succeeds; the id needs no leading '/', and case does not matter.
		{"DELETE of a missing app", "s3cret", map[string]any{"eventType": "DELETE", "applicationId": strings.ToUpper(app[1:]), "provisioningState": "Deleted"}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := ce.notify(t, tc.sig, tc.body)
			if code != tc.status {
				t.Fatalf("status %d, want %d: %v", code, tc.status, out)
			}
			if tc.code != "" {
				if e, _ := out["error"].(map[string]any); e == nil || e["code"] != tc.code {
					t.Fatalf("error %v, want code %s", out, tc.code)
				}
			}
		})
	}
}

// putPolicy defines an audit policy (widgets need an env tag) and assigns
// it at scope.
func (ce *collectorEnv) putPolicy(t *testing.T, scope string) string {
	t.Helper()
	def := "/subscriptions/" + ce.sub + "/providers/Microsoft.Authorization/policyDefinitions/widgets-need-env"
	ce.mustARM(t, "PUT", def, "2021-06-01", map[string]any{"properties": map[string]any{
		"mode": "All", "displayName": "Widgets need an env tag",
		"policyRule": map[string]any{
			"if":   map[string]any{"allOf": []any{map[string]any{"field": "type", "equals": "Microsoft.Contoso/widgets"}, map[string]any{"field": "tags['env']", "exists": "false"}}},
			"then": map[string]any{"effect": "audit"}}}})
	id := scope + "/providers/Microsoft.Authorization/policyAssignments/widgets-need-env"
	ce.mustARM(t, "PUT", id, "2022-06-01", map[string]any{"properties": map[string]any{"policyDefinitionId": def}})
	return id
}

func postJSON(t *testing.T, c *http.Client, u string, body any) (int, map[string]any) {
	t.Helper()
	return doJSON(t, c, "POST", u, body)
}

var _ = fmt.Sprintf
var _ = httptest.NewServer
var _ = to.Ptr[int]
var _ = armmonitor.KindLogAlert

func doJSON(t *testing.T, c *http.Client, method, u string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, u, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// adminCall calls Steward's API at base as the administrator and decodes
// the JSON answer.
func adminCall(t *testing.T, e *logsEnv, base string) func(method, path string) (int, map[string]any) {
	return func(method, path string) (int, map[string]any) {
		t.Helper()
		tok, err := e.cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: armScope})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(method, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
}

// TestCollectorServeReconcilesOnSchedule: once prepared, `steward
// serve`'s collector reconciles on its own schedule (status reports it)
// without anyone asking.
func TestCollectorServeReconcilesOnSchedule(t *testing.T) {
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), StorageService(), LogsService(), AlertsService(AlertsOptions{Disabled: true}),
		VaultService(VaultOptions{}), CollectorServeService(CollectorServeOptions{ReconcileInterval: time.Hour, Check: 20 * time.Millisecond}))
	e := newLogsEnvFor(t, s, dir)
	call := adminCall(t, e, strings.TrimSuffix(s.BaseURL, "/"))
	if code, st := call("GET", "/collector/api/status"); code != 200 {
		t.Fatalf("status: %d %v", code, st)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; {
		code, st := call("GET", "/collector/api/status")
		if rec, _ := st["reconciliation"].(map[string]any); code == 200 && rec != nil {
			if rec["count"] != float64(1) || rec["error"] != nil {
				t.Fatalf("the scheduled reconciliation: %v", rec)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled reconciliation: %d %v", code, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCollectorServeAPI: the collector `steward serve` mounts prepares
// itself on first use, tells the administrator its notification URL, runs
// collections on demand, and refuses everyone else.
func TestCollectorServeAPI(t *testing.T) {
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), StorageService(), LogsService(), AlertsService(AlertsOptions{Disabled: true}),
		VaultService(VaultOptions{}), CollectorServeService(CollectorServeOptions{Disabled: true, ReconcileDisabled: true}))
	e := newLogsEnvFor(t, s, dir)
	base := strings.TrimSuffix(s.BaseURL, "/")
	call := adminCall(t, e, base)
	// Nothing is created before the first use.
	if code, _ := e.arm(t, "GET", "/subscriptions/"+e.sub+"/resourceGroups/"+CollectorResourceGroup, "2021-04-01", nil); code != 404 {
		t.Fatalf("the collector's resource group exists before first use: %d", code)
	}
	code, st := call("GET", "/collector/api/status")
	u, _ := st["notificationUrl"].(string)
	if code != 200 || !strings.HasPrefix(u, base+"/collector?sig=") || len(u) < len(base)+30 {
		t.Fatalf("status: %d %v", code, st)
	}
	// The collector reads as its own principal, which status names.
	p, _ := st["principal"].(map[string]any)
	if p["objectId"] == "" || p["objectId"] == nil || p["applicationId"] == nil || p["applicationId"] == e.info.ClientID || p["tenantId"] != e.info.TenantID {
		t.Fatalf("the collector's principal: %v (the administrator is %s)", p, e.info.ClientID)
	}
	// The URL works as a notification endpoint, and only with its sig. The
	// collector's principal may not read an application no definition
	// authorizes it on (ARM answers 403 whether or not it exists, as it
	// does to any principal without access), so the event is recorded as
	// Inaccessible rather than confirmed with the administrator's rights.
	ev := map[string]any{"eventType": "PUT", "applicationId": "/subscriptions/" + e.sub + "/resourceGroups/x/providers/Microsoft.Solutions/applications/y", "provisioningState": "Succeeded"}
	if code, out := postJSON(t, e.client, strings.Replace(u, "/collector?", "/collector/resource?", 1), ev); code != 200 || out["provisioningState"] != collector.StateInaccessible {
		t.Errorf("notification: %d %v", code, out)
	}
	if code, out := postJSON(t, e.client, base+"/collector/resource?sig=nope", ev); code != 401 {
		t.Errorf("notification with a wrong sig: %d %v", code, out)
	}
	code, out := call("POST", "/collector/api/runs")
	run, _ := out["run"].(map[string]any)
	fails, _ := out["failures"].([]any)
	if code != 200 || run["done"] != true || run["deployments"] != float64(0) || run["inaccessible"] != float64(1) || len(fails) != 1 ||
		fails[0].(map[string]any)["inaccessible"] != true {
		t.Fatalf("run: %d %v", code, out)
	}
	if code, _ := call("GET", "/collector/api/deployments"); code != 200 {
		t.Errorf("deployments: %d", code)
	}
	// Reconciliation on demand is recorded, and status reports it.
	if code, out := call("POST", "/collector/api/reconcile"); code != 200 || out["known"] != float64(1) || out["updated"] != float64(0) {
		t.Errorf("reconcile: %d %v", code, out)
	}
	code, st = call("GET", "/collector/api/status")
	if rec, _ := st["reconciliation"].(map[string]any); code != 200 || rec == nil || rec["count"] != float64(1) {
		t.Errorf("status after a reconciliation: %d %v", code, st)
	}
	// Without a token, and as another principal, the API refuses.
	req, _ := http.NewRequest("GET", base+"/collector/api/status", nil)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("without a token: %d", resp.StatusCode)
	}
}
