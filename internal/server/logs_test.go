package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	ingest "github.com/Azure/azure-sdk-for-go/sdk/monitor/ingestion/azlogs"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/logs"
)

// logsEnv is a Steward serving ARM and logs, with the administrator's
// credential and an HTTP client trusting its CA.
type logsEnv struct {
	s      *Steward
	info   identity.BootstrapInfo
	cred   azcore.TokenCredential
	opts   azcore.ClientOptions
	client *http.Client
	sub    string
}

func newLogsEnv(t *testing.T) *logsEnv {
	t.Helper()
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), LogsService())
	return newLogsEnvFor(t, s, dir)
}

// newLogsEnvFor is the logsEnv of a started Steward s whose data
// directory is dir.
func newLogsEnvFor(t testing.TB, s *Steward, dir string) *logsEnv {
	t.Helper()
	info, err := identity.ReadBootstrap(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := sdkOptions(s)
	cred, err := azidentity.NewClientSecretCredential(info.TenantID, info.ClientID, info.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool()}}}
	return &logsEnv{s: s, info: info, cred: cred, opts: opts, client: client, sub: info.SubscriptionID}
}

// arm sends an ARM request with the administrator's token and decodes the
// JSON answer.
func (e *logsEnv) arm(t testing.TB, method, path, apiVersion string, body any) (int, map[string]any) {
	t.Helper()
	tok, err := e.cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: armScope})
	if err != nil {
		t.Fatal(err)
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, strings.TrimSuffix(e.s.BaseURL, "/")+path+"?api-version="+apiVersion, rd)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (e *logsEnv) mustARM(t testing.TB, method, path, apiVersion string, body any) map[string]any {
	t.Helper()
	code, out := e.arm(t, method, path, apiVersion, body)
	if code >= 300 {
		t.Fatalf("%s %s: %d %v", method, path, code, out)
	}
	return out
}

func props(m map[string]any) map[string]any { p, _ := m["properties"].(map[string]any); return p }

func TestLogsWithAzureSDKClients(t *testing.T) {
	e := newLogsEnv(t)
	ctx := context.Background()
	rg := "/subscriptions/" + e.sub + "/resourceGroups/logs"
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	wsID := rg + "/providers/Microsoft.OperationalInsights/workspaces/governance"
	ws := e.mustARM(t, "PUT", wsID, "2022-10-01", map[string]any{"location": "eastus", "properties": map[string]any{"retentionInDays": 90}})
	customerID, _ := props(ws)["customerId"].(string)
	if len(customerID) != 36 {
		t.Fatalf("workspace customerId = %v", props(ws))
	}
	keys := e.mustARM(t, "POST", wsID+"/sharedKeys", "2020-08-01", nil)
	if keys["primarySharedKey"] == "" {
		t.Fatalf("sharedKeys = %v", keys)
	}
	e.mustARM(t, "PUT", wsID+"/tables/PolicyComplianceStates_CL", "2022-10-01", map[string]any{"properties": map[string]any{
		"schema": map[string]any{"name": "PolicyComplianceStates_CL", "columns": []any{
			map[string]any{"name": "TimeGenerated", "type": "datetime"},
			map[string]any{"name": "Policy_assignment_id", "type": "string"},
			map[string]any{"name": "Resource_id", "type": "string"},
			map[string]any{"name": "Is_compliant", "type": "boolean"}}}}})
	dceID := rg + "/providers/Microsoft.Insights/dataCollectionEndpoints/dce"
	dce := e.mustARM(t, "PUT", dceID, "2022-06-01", map[string]any{"location": "eastus", "properties": map[string]any{}})
	endpoint, _ := props(dce)["logsIngestion"].(map[string]any)["endpoint"].(string)
	dcrID := rg + "/providers/Microsoft.Insights/dataCollectionRules/policy-states"
	dcr := e.mustARM(t, "PUT", dcrID, "2022-06-01", map[string]any{"location": "eastus", "properties": map[string]any{
		"dataCollectionEndpointId": dceID,
		"streamDeclarations": map[string]any{"Custom-PolicyStates": map[string]any{"columns": []any{
			map[string]any{"name": "TimeGenerated", "type": "datetime"},
			map[string]any{"name": "PolicyAssignmentId", "type": "string"},
			map[string]any{"name": "ResourceId", "type": "string"},
			map[string]any{"name": "IsCompliant", "type": "boolean"}}}},
		"destinations": map[string]any{"logAnalytics": []any{map[string]any{"name": "la", "workspaceResourceId": wsID}}},
		"dataFlows": []any{map[string]any{"streams": []any{"Custom-PolicyStates"}, "destinations": []any{"la"},
			"transformKql": "source | project TimeGenerated, Policy_assignment_id = PolicyAssignmentId, Resource_id = ResourceId, Is_compliant = IsCompliant",
			"outputStream": "Custom-PolicyComplianceStates_CL"}}}})
	immutableID, _ := props(dcr)["immutableId"].(string)

	// The endpoint has Azure's host shape; it is reached through the proxy.
	if !strings.HasSuffix(strings.TrimSuffix(endpoint, "/"), ".eastus-1.ingest.monitor.azure.com") {
		t.Fatalf("DCE endpoint %q, want Azure's host shape", endpoint)
	}
	g := &loopbackGuard{}
	defer g.check(t)
	ingestOpts := &ingest.ClientOptions{ClientOptions: proxyClientOptions(t, e.s, g)}
	ingestOpts.Cloud.Services = map[cloudServiceName]cloudServiceConfig{
		ingest.ServiceNameIngestion: {Audience: MonitorAudience},
	}
	up, err := ingest.NewClient(endpoint, e.cred, ingestOpts)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var states []map[string]any
	latest := map[string]bool{}
	for i := range 12 {
		id := fmt.Sprintf("/providers/Microsoft.Authorization/policyAssignments/a%d", i%4)
		ok := i%3 != 1
		states = append(states, map[string]any{"TimeGenerated": now.Add(time.Duration(i-12) * time.Minute).Format(time.RFC3339),
			"PolicyAssignmentId": id, "ResourceId": fmt.Sprintf("vm%d", i), "IsCompliant": ok})
		latest[id] = ok
	}
	body, _ := json.Marshal(states)

	// Owner has no data actions: ingestion needs Monitoring Metrics
	// Publisher on the rule, as in Azure.
	_, err = up.Upload(ctx, immutableID, "Custom-PolicyStates", body, nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden || re.ErrorCode != "OperationFailed" {
		t.Fatalf("upload without a data role: %v", err)
	}
	e.mustARM(t, "PUT", dcrID+"/providers/Microsoft.Authorization/roleAssignments/8c4b0f5e-6a3f-4d0e-9a51-2f1d5c7b9e01", "2022-04-01",
		map[string]any{"properties": map[string]any{
			"roleDefinitionId": "/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/roleDefinitions/3913510d-42f4-4e42-8a64-420c390055eb",
			"principalId":      e.info.ObjectID, "principalType": "ServicePrincipal"}})
	if _, err := up.Upload(ctx, immutableID, "Custom-PolicyStates", body, nil); err != nil {
		t.Fatalf("upload: %v", err)
	}

	// The Data Collector API, signed as seed 002's Python does.
	collectorBody := `[{"user":"alice","AccessKeyId":"AKIA...0001","CreateDate":"2019-01-15T10:00:00"},{"user":"bob","AccessKeyId":"AKIA...0002","CreateDate":"` + now.Add(-24*time.Hour).Format("2006-01-02T15:04:05") + `"}]`
	date := now.Format(http.TimeFormat)
	// post sends collectorBody to path, on host when it is not empty,
	// signed with key, and returns the status.
	post := func(path, host, key string) int {
		t.Helper()
		sig, err := logs.Signature(key, "POST", int64(len(collectorBody)), "application/json", date)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", strings.TrimSuffix(e.s.BaseURL, "/")+path+"?api-version=2016-04-01", strings.NewReader(collectorBody))
		if host != "" {
			req.Host = host
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Log-Type", "AWS_Access_Key_Report")
		req.Header.Set("x-ms-date", date)
		req.Header.Set("Authorization", "SharedKey "+customerID+":"+sig)
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/ods/"+customerID+"/api/logs", "", keys["secondarySharedKey"].(string)); code != http.StatusOK {
		t.Fatalf("data collector: %d", code)
	}

	// The same API on Azure's host name, and a regenerated key retires the
	// old one.
	hostPost := func(key string) int {
		return post("/api/logs", customerID+".ods.opinsights.azure.com", key)
	}
	oldKey := keys["primarySharedKey"].(string)
	if code := hostPost(oldKey); code != http.StatusOK {
		t.Fatalf("data collector on the ods host: %d", code)
	}
	newKeys := e.mustARM(t, "POST", wsID+"/regenerateSharedKey", "2020-08-01", map[string]any{"keyType": "Primary"})
	if newKeys["primarySharedKey"] == oldKey || newKeys["secondarySharedKey"] != keys["secondarySharedKey"] {
		t.Fatalf("regenerateSharedKey: %v", newKeys)
	}
	if code := hostPost(oldKey); code != http.StatusForbidden {
		t.Errorf("post signed with the replaced key: %d", code)
	}
	// The query below counts alice's key once per accepted post.
	if code := hostPost(newKeys["primarySharedKey"].(string)); code != http.StatusOK {
		t.Errorf("post signed with the new key: %d", code)
	}

	qOpts := &query.ClientOptions{ClientOptions: e.opts}
	qOpts.Cloud.Services = map[cloudServiceName]cloudServiceConfig{
		query.ServiceName: {Audience: LogAnalyticsAudience, Endpoint: strings.TrimSuffix(e.s.BaseURL, "/") + "/v1"},
	}
	qc, err := query.NewClient(e.cred, qOpts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qc.QueryWorkspace(ctx, customerID, query.QueryBody{
		Query:    to.Ptr("PolicyComplianceStates_CL | summarize arg_max(TimeGenerated,*) by Policy_assignment_id | where Is_compliant==false"),
		Timespan: to.Ptr(query.NewTimeInterval(now.Add(-time.Hour), now.Add(time.Hour))),
	}, &query.QueryWorkspaceOptions{Options: &query.QueryOptions{Statistics: to.Ptr(true), Wait: to.Ptr(60)}})
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	if res.Error != nil || len(res.Tables) != 1 || res.Statistics == nil {
		t.Fatalf("query response: error %v, %d tables, statistics %s", res.Error, len(res.Tables), res.Statistics)
	}
	var got, want []string
	for _, row := range res.Tables[0].Rows {
		got = append(got, fmt.Sprint(row[0]))
	}
	for id, ok := range latest {
		if !ok {
			want = append(want, id)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") || len(want) == 0 {
		t.Errorf("non-compliant assignments: got %v, want %v", got, want)
	}
	if c := res.Tables[0].Columns; len(c) != 4 || *c[1].Name != "TimeGenerated" || *c[1].Type != query.ColumnTypeDatetime {
		t.Errorf("columns: %v", c)
	}

	// Seed 002's key-age query, resource-centric this time.
	res2, err := qc.QueryResource(ctx, wsID, query.QueryBody{Query: to.Ptr(
		"AWS_Access_Key_Report_CL | extend key_age = datetime_diff('day',now(),CreateDate_t) | project Age=key_age,AccessKey=AccessKeyId_s, User=user_s | where Age > 90 | sort by Age")}, nil)
	if err != nil {
		t.Fatalf("resource query: %v", err)
	}
	if rows := res2.Tables[0].Rows; len(rows) != 3 || rows[0][2] != "alice" {
		t.Errorf("keys older than 90 days: %v", rows)
	}

	// A query that returns several tables: the SDK client reads every one,
	// in order, each under the name the query gives it or PrimaryResult.
	res3, err := qc.QueryWorkspace(ctx, customerID, query.QueryBody{Query: to.Ptr(
		"AWS_Access_Key_Report_CL | fork (count) Users = (summarize by user_s | sort by user_s asc); print x = 1")}, nil)
	if err != nil {
		t.Fatalf("fork query: %v", err)
	}
	var names []string
	for _, tab := range res3.Tables {
		names = append(names, *tab.Name)
	}
	if strings.Join(names, ",") != "PrimaryResult,Users,PrimaryResult" {
		t.Fatalf("fork query tables: %v", names)
	}
	count, err := qc.QueryWorkspace(ctx, customerID, query.QueryBody{Query: to.Ptr("AWS_Access_Key_Report_CL | count")}, nil)
	if err != nil || len(count.Tables) != 1 {
		t.Fatalf("count query: %v", err)
	}
	if rows := res3.Tables[1].Rows; fmt.Sprint(rows) != "[[alice] [bob]]" || fmt.Sprint(res3.Tables[2].Rows) != "[[1]]" ||
		fmt.Sprint(res3.Tables[0].Rows) != fmt.Sprint(count.Tables[0].Rows) {
		t.Errorf("fork query rows: %v / %v / %v", res3.Tables[0].Rows, rows, res3.Tables[2].Rows)
	}

	// A syntax error is a 400 with Azure's error code, never a 500.
	_, err = qc.QueryWorkspace(ctx, customerID, query.QueryBody{Query: to.Ptr("PolicyComplianceStates_CL | where (")}, nil)
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest || re.ErrorCode != "BadArgumentError" {
		t.Errorf("syntax error: %v", err)
	}
	// Tokens for another audience are refused.
	armTok, _ := e.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: armScope})
	req, _ := http.NewRequest("POST", strings.TrimSuffix(e.s.BaseURL, "/")+"/v1/workspaces/"+customerID+"/query", strings.NewReader(`{"query":"print 1"}`))
	req.Header.Set("Authorization", "Bearer "+armTok.Token)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("query with an ARM token: %d", resp.StatusCode)
	}
}

type (
	cloudServiceName   = azcloud.ServiceName
	cloudServiceConfig = azcloud.ServiceConfiguration
)
