package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"

	"github.com/steward-gov/steward/internal/collector"
)

// seed000Dir is where the seed's published code was placed by
// scripts/fetch-seed-code.sh: $STEWARD_SEED000_DIR, else ../shared/marketplace-extras
// beside the checkout. It holds applications/{NotificationHandler,PolicyStates}.
func seed000Dir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("STEWARD_SEED000_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "marketplace-extras")
	}
	if _, err := os.Stat(filepath.Join(dir, "applications", "PolicyStates", "__init__.py")); err != nil {
		t.Skipf("seed 000's code is not at %s: scripts/fetch-seed-code.sh places it there (or set STEWARD_SEED000_DIR); skipping", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func pythonForSeed000(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if err := exec.Command(py, "-c", "import azure.identity.aio, azure.mgmt.resource, azure.mgmt.policyinsights.aio, azure.monitor.ingestion.aio, azure.data.tables.aio, aiohttp").Run(); err == nil {
			return py
		}
	}
	t.Skip("no python3 with the Azure SDK and aiohttp (Debian: apt-get install python3-azure python3-aiohttp); skipping the seed 000 Python test")
	return ""
}

// TestSeed000PythonFunctionsUnmodified runs the seed's NotificationHandler
// and PolicyStates functions, unmodified, against Steward through the
// environment `steward env --managed-identity` prints (the forward proxy
// for Azure's host names, the CA bundle, the Function App's managed
// identity) plus the publisher principal's AZURE_* settings the seed's
// Function App has. Where the seed fails, it is its own defect, and
// Steward answers as Azure would (docs/collector.md).
func TestSeed000PythonFunctionsUnmodified(t *testing.T) {
	seed := seed000Dir(t)
	py := pythonForSeed000(t)
	ce := newCollectorEnv(t)
	w := newSeedWorld(t, ce, func(w *seedWorld) {})
	rg := "/subscriptions/" + ce.sub + "/resourceGroups/publisher"

	// The seed's own log infrastructure (azure/main.bicep, function.bicep):
	// its four-column table and stream, in a workspace of their own.
	ws := rg + "/providers/Microsoft.OperationalInsights/workspaces/seed"
	ce.mustARM(t, "PUT", ws, "2022-10-01", map[string]any{"location": "eastus", "properties": map[string]any{}})
	cols := []any{map[string]any{"name": "Policy_assignment_id", "type": "string"}, map[string]any{"name": "Policy_assignment_name", "type": "string"},
		map[string]any{"name": "Is_compliant", "type": "boolean"}, map[string]any{"name": "TimeGenerated", "type": "datetime"}}
	ce.mustARM(t, "PUT", ws+"/tables/"+collector.Table, "2022-10-01", map[string]any{"properties": map[string]any{
		"schema": map[string]any{"name": collector.Table, "columns": cols}}})
	dceID := rg + "/providers/Microsoft.Insights/dataCollectionEndpoints/seed"
	dce := ce.mustARM(t, "PUT", dceID, "2022-06-01", map[string]any{"location": "eastus", "properties": map[string]any{}})
	endpoint, _ := props(dce)["logsIngestion"].(map[string]any)["endpoint"].(string)
	dcrID := rg + "/providers/Microsoft.Insights/dataCollectionRules/seed"
	dcr := ce.mustARM(t, "PUT", dcrID, "2022-06-01", map[string]any{"location": "eastus", "properties": map[string]any{
		"dataCollectionEndpointId": dceID,
		"streamDeclarations":       map[string]any{collector.Stream: map[string]any{"columns": cols}},
		"destinations":             map[string]any{"logAnalytics": []any{map[string]any{"name": "logAnalyticsMarketplace", "workspaceResourceId": ws}}},
		"dataFlows": []any{map[string]any{"streams": []any{collector.Stream}, "destinations": []any{"logAnalyticsMarketplace"},
			"transformKql": "source", "outputStream": collector.Stream}}}})
	immutableID, _ := props(dcr)["immutableId"].(string)
	// The Function App, its system-assigned identity Monitoring Metrics
	// Publisher on the resource group, as function.bicep grants.
	site := rg + "/providers/Microsoft.Web/sites/seed-functions"
	app := ce.mustARM(t, "PUT", site, "2022-03-01", map[string]any{"location": "eastus", "kind": "functionapp,linux", "identity": map[string]any{"type": "SystemAssigned"}})
	mi, _ := app["identity"].(map[string]any)["principalId"].(string)
	ce.mustARM(t, "PUT", rg+"/providers/Microsoft.Authorization/roleAssignments/8d3e2f5a-9b63-4daf-82e4-5a7d9f1b3c43", "2022-04-01",
		map[string]any{"properties": map[string]any{
			"roleDefinitionId": "/subscriptions/" + ce.sub + "/providers/Microsoft.Authorization/roleDefinitions/3913510d-42f4-4e42-8a64-420c390055eb",
			"principalId":      mi, "principalType": "ServicePrincipal"}})
	keys := ce.mustARM(t, "POST", rg+"/providers/Microsoft.Storage/storageAccounts/publisherinventory/listKeys", "2023-01-01", nil)
	key, _ := keys["keys"].([]any)[0].(map[string]any)["value"].(string)

	// The environment of `steward env --managed-identity <site>`, plus the
	// Function App's settings.
	bindingKey, err := EnsureBindingKey(ce.dir)
	if err != nil {
		t.Fatal(err)
	}
	binding := IdentityBinding(bindingKey, site)
	httpProxy, _ := url.Parse(ce.s.ProxyURL)
	httpProxy.User = url.UserPassword("msi", binding)
	env := append(os.Environ(),
		"HTTPS_PROXY="+ce.s.ProxyURL, "HTTP_PROXY="+httpProxy.String(), "NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=localhost,127.0.0.1,::1",
		"SSL_CERT_FILE="+ce.s.CA.CACertPath, "REQUESTS_CA_BUNDLE="+ce.s.CA.CACertPath,
		"IDENTITY_ENDPOINT="+strings.TrimSuffix(ce.s.BaseURL, "/")+AppServiceTokenPath, "IDENTITY_HEADER="+binding,
		"AZURE_TENANT_ID="+w.pub.tenant, "AZURE_CLIENT_ID="+w.pub.clientID, "AZURE_CLIENT_SECRET="+w.pub.secret,
		"AzureWebJobsStorage=DefaultEndpointsProtocol=https;AccountName=publisherinventory;AccountKey="+key+";EndpointSuffix=core.windows.net",
		"TABLE_NAME=applications", "DATA_COLLECTION_ENDPOINT="+endpoint, "DATA_COLLECTION_IMMUTABLE_ID="+immutableID,
		"STREAM_NAME="+collector.Stream, "STEWARD_SEED000_DIR="+seed)
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(py, append([]string{"testdata/seed000_functions.py"}, args...)...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("seed000_functions.py %v: %v\n%s\n%s", args, err, out, stderr)
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("output %s: %v", out, err)
		}
		return got
	}

	// NotificationHandler registers the three applications.
	var events []map[string]any
	for _, a := range w.deployed {
		events = append(events, map[string]any{"eventType": "PUT", "applicationId": a.id(), "eventTime": time.Now().UTC().Format(time.RFC3339Nano),
			"provisioningState": "Succeeded", "plan": map[string]any{"name": "gold", "product": "contoso-app", "publisher": "contoso", "version": "1.0.0"}})
	}
	evFile := filepath.Join(t.TempDir(), "events.json")
	b, _ := json.Marshal(events)
	if err := os.WriteFile(evFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got := run("notify", evFile)
	answers, _ := got["answers"].([]any)
	if len(answers) != 3 {
		t.Fatalf("NotificationHandler: %v", got)
	}
	for i, a := range answers {
		if a := a.(map[string]any); a["status"] != float64(200) || a["body"] != "OK" {
			t.Errorf("event %d: %v (log %v)", i, a, got["log"])
		}
	}
	// Its rows, keyed as the seed keys them (subscription, name).
	tc, err := aztables.NewClient(strings.TrimSuffix(ce.s.BaseURL, "/")+"/tables/publisherinventory/applications", ce.cred, ce.tableOptions())
	if err != nil {
		t.Fatal(err)
	}
	pager := tc.NewListEntitiesPager(nil)
	mrgs := map[string]string{}
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range page.Entities {
			var e map[string]any
			_ = json.Unmarshal(raw, &e)
			mrgs[e["PartitionKey"].(string)+"/"+e["RowKey"].(string)] = e["mrg_name"].(string)
		}
	}
	want := map[string]string{subA + "/app1": "mrg-app1", subA + "/app2": "mrg-app2", subB + "/app3": "mrg-app3"}
	if !reflect.DeepEqual(mrgs, want) {
		t.Errorf("the seed's table: %v, want %v", mrgs, want)
	}

	// PolicyStates reads each managed resource group's states (one
	// resource each) with the publisher's principal across tenants, then
	// uploads the asyncio.gather result, a list of per-application lists
	// (its defect 1): the ingestion API refuses the body with 400, which
	// the function logs and swallows. Nothing reaches the table.
	got = run("collect")
	log := fmt.Sprint(got["log"])
	for _, a := range w.deployed {
		if !strings.Contains(log, "Policies amount: 1 for RG mrg-"+a.name) {
			t.Errorf("PolicyStates did not read %s: %s", a.name, log)
		}
	}
	if !strings.Contains(log, "Upload failed: (InvalidContent)") {
		t.Errorf("PolicyStates' upload: %s", log)
	}
	span := query.NewTimeInterval(time.Now().Add(-24*time.Hour), time.Now().Add(time.Hour))
	q := collector.Table + " | count"
	resp, err := ce.query.QueryResource(context.Background(), ws, query.QueryBody{Query: &q, Timespan: &span}, nil)
	if err != nil || resp.Tables[0].Rows[0][0] != float64(0) {
		t.Errorf("the seed's table after its upload: %v %v", resp.Tables, err)
	}
}
