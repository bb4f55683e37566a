package server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
)

// TestActivityLogLandsInAzureActivityTable creates a workspace and a
// subscription diagnostic setting naming it, makes writes, runs the
// forwarder and reads them back with KQL through the Azure SDK: only
// writes after the setting, only the enabled categories, each once even
// when the forwarder runs again.
func TestActivityLogLandsInAzureActivityTable(t *testing.T) {
	dir := t.TempDir()
	var forward ActivityForwarder
	s, _ := startSteward(t, dir, CloudService(), LogsService(),
		ActivityTableService(ActivityTableOptions{Disabled: true}, func(f ActivityForwarder) { forward = f }))
	e := newLogsEnvFor(t, s, dir)
	ctx := context.Background()
	sub := "/subscriptions/" + e.sub
	rg := sub + "/resourceGroups/ops"
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	wsID := rg + "/providers/Microsoft.OperationalInsights/workspaces/audit"
	ws := e.mustARM(t, "PUT", wsID, "2022-10-01", map[string]any{"location": "eastus"})
	customerID, _ := props(ws)["customerId"].(string)

	setting := sub + "/providers/Microsoft.Insights/diagnosticSettings/to-audit"
	bad := []struct {
		name string
		id   string
		body map[string]any
	}{
		{"no workspace", setting, map[string]any{"properties": map[string]any{"logs": []any{map[string]any{"category": "Administrative", "enabled": true}}}}},
		{"missing workspace", setting, map[string]any{"properties": map[string]any{"workspaceId": rg + "/providers/Microsoft.OperationalInsights/workspaces/nope",
			"logs": []any{map[string]any{"category": "Administrative", "enabled": true}}}}},
		{"unknown category", setting, map[string]any{"properties": map[string]any{"workspaceId": wsID, "logs": []any{map[string]any{"category": "Audit", "enabled": true}}}}},
		{"storage destination", setting, map[string]any{"properties": map[string]any{"workspaceId": wsID,
			"storageAccountId": rg + "/providers/Microsoft.Storage/storageAccounts/x", "logs": []any{map[string]any{"category": "Administrative", "enabled": true}}}}},
		{"resource group scope", rg + "/providers/Microsoft.Insights/diagnosticSettings/x", map[string]any{"properties": map[string]any{"workspaceId": wsID,
			"logs": []any{map[string]any{"category": "Administrative", "enabled": true}}}}},
	}
	for _, b := range bad {
		if code, out := e.arm(t, "PUT", b.id, "2021-05-01-preview", b.body); code != 400 {
			t.Errorf("%s: %d %v, want 400", b.name, code, out)
		}
	}
	// Writes before the setting are not exported (Azure exports what
	// happens after a setting exists).
	e.mustARM(t, "PUT", sub+"/resourceGroups/before", "2021-04-01", map[string]any{"location": "eastus"})
	e.mustARM(t, "PUT", setting, "2021-05-01-preview", map[string]any{"properties": map[string]any{"workspaceId": wsID,
		"logs": []any{map[string]any{"category": "Administrative", "enabled": true}, map[string]any{"category": "Policy", "enabled": false}}}})
	for i := range 3 {
		e.mustARM(t, "PUT", fmt.Sprintf("%s/resourceGroups/app%d", sub, i), "2021-04-01", map[string]any{"location": "eastus"})
	}
	if code, _ := e.arm(t, "PUT", sub+"/resourceGroups/BAD!", "2021-04-01", map[string]any{"location": "eastus"}); code < 400 {
		t.Fatalf("an invalid group name was accepted")
	}
	n, err := forward(ctx)
	if err != nil || n < 4 {
		t.Fatalf("forward: %d events, %v", n, err)
	}
	if n2, err := forward(ctx); err != nil || n2 != 0 {
		t.Fatalf("second pass: %d events, %v; want 0 (watermark)", n2, err)
	}
	e.mustARM(t, "DELETE", sub+"/resourceGroups/app2", "2021-04-01", nil)
	if n3, err := forward(ctx); err != nil || n3 < 1 {
		t.Fatalf("third pass: %d events, %v", n3, err)
	}

	qOpts := &query.ClientOptions{ClientOptions: e.opts}
	qOpts.Cloud.Services = map[cloudServiceName]cloudServiceConfig{
		query.ServiceName: {Audience: LogAnalyticsAudience, Endpoint: strings.TrimSuffix(e.s.BaseURL, "/") + "/v1"},
	}
	qc, err := query.NewClient(e.cred, qOpts)
	if err != nil {
		t.Fatal(err)
	}
	run := func(q string) []query.Row {
		t.Helper()
		res, err := qc.QueryWorkspace(ctx, customerID, query.QueryBody{Query: to.Ptr(q)}, nil)
		if err != nil || res.Error != nil || len(res.Tables) != 1 {
			t.Fatalf("%s: %v %v", q, err, res.Error)
		}
		return res.Tables[0].Rows
	}
	rows := run(`AzureActivity
| where OperationNameValue =~ "Microsoft.Resources/subscriptions/resourceGroups/write" and ActivityStatusValue == "Succeeded"
| extend Group = tostring(split(_ResourceId, "/")[4])
| summarize count() by Group, CategoryValue, Caller, action = tostring(Authorization_d.action)
| sort by Group asc`)
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprint(r[0], " ", r[1], " ", r[3], " ", r[4]))
		if r[2] != e.info.ClientID && r[2] != e.info.ObjectID {
			t.Errorf("caller %v is not the administrator", r[2])
		}
	}
	want := []string{
		"app0 Administrative Microsoft.Resources/subscriptions/resourceGroups/write 1",
		"app1 Administrative Microsoft.Resources/subscriptions/resourceGroups/write 1",
		"app2 Administrative Microsoft.Resources/subscriptions/resourceGroups/write 1",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("group writes in AzureActivity:\n got %q\nwant %q", got, want)
	}
	if r := run(`AzureActivity | where ActivityStatusValue == "Failed" | project SubscriptionId, Level, Properties_d.statusCode`); len(r) != 1 || r[0][0] != e.sub {
		t.Errorf("failed writes: %v", r)
	}
	if r := run(`AzureActivity | where OperationNameValue endswith "resourceGroups/delete" | project ResourceGroup, Resource`); len(r) != 1 || r[0][0] != "app2" || r[0][1] != "app2" {
		t.Errorf("deletes: %v", r)
	}
	if r := run(`AzureActivity | summarize dcount(EventDataId), count()`); len(r) != 1 || fmt.Sprint(r[0][0]) != fmt.Sprint(r[0][1]) {
		t.Errorf("events forwarded more than once: %v", r)
	}
}
