package cloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"
	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/cloud"
)

// putJSON writes a document as the given token and returns the status
// and the error code, if any.
func (e *env) putJSON(t testing.TB, token, id, apiVersion string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, out := e.do(t, http.MethodPut, id+"?api-version="+apiVersion, token, b)
	var env struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(out, &env)
	return resp.StatusCode, env.Error.Code + ": " + env.Error.Message
}

// TestSDKDiagnosticSettingsAtResourceScope writes, reads, lists and
// deletes diagnostic settings of resources (a top-level resource and a
// child) with armmonitor.DiagnosticSettingsClient, and checks Azure's
// refusals: no destination, a destination that is missing or of the wrong
// type, malformed logs and metrics, a scope that takes no diagnostic
// settings, a missing resource, a sixth setting, and a caller without
// write access.
func TestSDKDiagnosticSettingsAtResourceScope(t *testing.T) {
	e := newDeployEnv(t)
	ctx := context.Background()
	admin := e.adminToken(t)
	rg := "/subscriptions/" + e.sub + "/resourceGroups/rg1"
	ws := rg + "/providers/Microsoft.OperationalInsights/workspaces/logs1"
	nsg := rg + "/providers/Microsoft.Network/networkSecurityGroups/nsg1"
	other := rg + "/providers/Microsoft.Network/networkSecurityGroups/nsg2"
	subnet := rg + "/providers/Microsoft.Network/virtualNetworks/vn1/subnets/s1"
	rule := rg + "/providers/Microsoft.EventHub/namespaces/ns1/authorizationRules/send"
	for _, id := range []string{ws, nsg, other, rg + "/providers/Microsoft.Network/virtualNetworks/vn1", subnet, rg + "/providers/Microsoft.EventHub/namespaces/ns1", rule} {
		body := map[string]any{"location": "westeurope", "properties": map[string]any{}}
		if strings.Contains(id, "/subnets/") || strings.Contains(id, "/authorizationRules/") {
			delete(body, "location")
		}
		if code, msg := e.putJSON(t, admin, id, readVersion(t, id), body); code >= 300 {
			t.Fatalf("PUT %s: %d %s", id, code, msg)
		}
	}
	diag, err := armmonitor.NewDiagnosticSettingsClient(e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	created, err := diag.CreateOrUpdate(ctx, nsg, "to-la", armmonitor.DiagnosticSettingsResource{Properties: &armmonitor.DiagnosticSettings{
		WorkspaceID:                 to.Ptr(ws),
		LogAnalyticsDestinationType: to.Ptr("Dedicated"),
		Logs: []*armmonitor.LogSettings{{CategoryGroup: to.Ptr("allLogs"), Enabled: to.Ptr(true)},
			{Category: to.Ptr("NetworkSecurityGroupRuleCounter"), Enabled: to.Ptr(false)}},
		Metrics: []*armmonitor.MetricSettings{{Category: to.Ptr("AllMetrics"), Enabled: to.Ptr(true)}},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantID := nsg + "/providers/Microsoft.Insights/diagnosticSettings/to-la"
	if !strings.EqualFold(*created.ID, wantID) || *created.Name != "to-la" || !strings.EqualFold(*created.Type, "Microsoft.Insights/diagnosticSettings") ||
		*created.Properties.WorkspaceID != ws || *created.Properties.LogAnalyticsDestinationType != "Dedicated" ||
		len(created.Properties.Logs) != 2 || *created.Properties.Logs[0].CategoryGroup != "allLogs" || len(created.Properties.Metrics) != 1 {
		t.Fatalf("created: %+v %+v", created.DiagnosticSettingsResource, created.Properties)
	}
	got, err := diag.Get(ctx, nsg, "to-la", nil)
	if err != nil || *got.Properties.WorkspaceID != ws {
		t.Fatalf("get: %v %+v", err, got)
	}
	if _, err := diag.CreateOrUpdate(ctx, nsg, "to-hub", armmonitor.DiagnosticSettingsResource{Properties: &armmonitor.DiagnosticSettings{
		EventHubAuthorizationRuleID: to.Ptr(rule), EventHubName: to.Ptr("audit"),
		Logs: []*armmonitor.LogSettings{{Category: to.Ptr("NetworkSecurityGroupEvent"), Enabled: to.Ptr(true)}},
	}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := diag.CreateOrUpdate(ctx, subnet, "child", armmonitor.DiagnosticSettingsResource{Properties: &armmonitor.DiagnosticSettings{
		WorkspaceID: to.Ptr(ws), Metrics: []*armmonitor.MetricSettings{{Category: to.Ptr("AllMetrics"), Enabled: to.Ptr(true)}},
	}}, nil); err != nil {
		t.Fatalf("setting of a child resource: %v", err)
	}
	if _, err := diag.CreateOrUpdate(ctx, other, "x", armmonitor.DiagnosticSettingsResource{Properties: &armmonitor.DiagnosticSettings{
		WorkspaceID: to.Ptr(ws), Metrics: []*armmonitor.MetricSettings{{Category: to.Ptr("AllMetrics"), Enabled: to.Ptr(true)}},
	}}, nil); err != nil {
		t.Fatal(err)
	}
	list := func(id string) []string {
		t.Helper()
		var names []string
		for p := diag.NewListPager(id, nil); p.More(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("list %s: %v", id, err)
			}
			for _, s := range page.Value {
				names = append(names, *s.Name)
			}
		}
		sort.Strings(names)
		return names
	}
	if got := fmt.Sprint(list(nsg)); got != "[to-hub to-la]" {
		t.Errorf("settings of nsg1: %s, want [to-hub to-la] (not nsg2's)", got)
	}
	if got := fmt.Sprint(list(subnet)); got != "[child]" {
		t.Errorf("settings of the subnet: %s", got)
	}

	logs := []any{map[string]any{"category": "NetworkSecurityGroupEvent", "enabled": true}}
	setting := func(p map[string]any) map[string]any { return map[string]any{"properties": p} }
	bad := []struct {
		name, id string
		body     map[string]any
		want     int
		code     string
	}{
		{"no destination", nsg, setting(map[string]any{"logs": logs}), 400, "BadRequest"},
		{"missing workspace", nsg, setting(map[string]any{"workspaceId": rg + "/providers/Microsoft.OperationalInsights/workspaces/nope", "logs": logs}), 400, "BadRequest"},
		{"workspaceId of another type", nsg, setting(map[string]any{"workspaceId": other, "logs": logs}), 400, "BadRequest"},
		{"storage account of another type", nsg, setting(map[string]any{"storageAccountId": ws, "logs": logs}), 400, "BadRequest"},
		{"no logs nor metrics", nsg, setting(map[string]any{"workspaceId": ws}), 400, "BadRequest"},
		{"category and group", nsg, setting(map[string]any{"workspaceId": ws, "logs": []any{map[string]any{"category": "A", "categoryGroup": "allLogs", "enabled": true}}}), 400, "BadRequest"},
		{"unknown group", nsg, setting(map[string]any{"workspaceId": ws, "logs": []any{map[string]any{"categoryGroup": "everything", "enabled": true}}}), 400, "BadRequest"},
		{"enabled missing", nsg, setting(map[string]any{"workspaceId": ws, "logs": []any{map[string]any{"category": "NetworkSecurityGroupEvent"}}}), 400, "BadRequest"},
		{"metric without category", nsg, setting(map[string]any{"workspaceId": ws, "metrics": []any{map[string]any{"enabled": true}}}), 400, "BadRequest"},
		{"bad retention", nsg, setting(map[string]any{"workspaceId": ws, "logs": []any{map[string]any{"category": "A", "enabled": true, "retentionPolicy": map[string]any{"enabled": true, "days": -1}}}}), 400, "BadRequest"},
		{"bad destination type", nsg, setting(map[string]any{"workspaceId": ws, "logs": logs, "logAnalyticsDestinationType": "Shared"}), 400, "BadRequest"},
		{"logs not an array", nsg, setting(map[string]any{"workspaceId": ws, "logs": "all"}), 400, "BadRequest"},
		{"no properties", nsg, map[string]any{}, 400, "BadRequest"},
		{"resource group scope", rg, setting(map[string]any{"workspaceId": ws, "logs": logs}), 400, "BadRequest"},
		{"missing resource", rg + "/providers/Microsoft.Network/networkSecurityGroups/gone", setting(map[string]any{"workspaceId": ws, "logs": logs}), 404, "ParentResourceNotFound"},
		{"subscription scope without the activity export", "/subscriptions/" + e.sub, setting(map[string]any{"workspaceId": ws, "logs": []any{map[string]any{"category": "Administrative", "enabled": true}}}), 400, "ResourceTypeNotImplemented"},
	}
	for _, b := range bad {
		id := b.id + "/providers/Microsoft.Insights/diagnosticSettings/bad"
		if code, msg := e.putJSON(t, admin, id, "2021-05-01-preview", b.body); code != b.want || !strings.HasPrefix(msg, b.code+":") {
			t.Errorf("%s: %d %s, want %d %s", b.name, code, msg, b.want, b.code)
		}
	}
	if got := fmt.Sprint(list(nsg)); got != "[to-hub to-la]" {
		t.Errorf("a refused setting was stored: %s", got)
	}

	// Five settings per resource at most; updating one of them is allowed.
	ok := setting(map[string]any{"workspaceId": ws, "metrics": []any{map[string]any{"category": "AllMetrics", "enabled": true}}})
	for i := range 3 {
		if code, msg := e.putJSON(t, admin, fmt.Sprintf("%s/providers/Microsoft.Insights/diagnosticSettings/s%d", nsg, i), "2021-05-01-preview", ok); code != 200 && code != 201 {
			t.Fatalf("setting %d: %d %s", i+3, code, msg)
		}
	}
	if code, msg := e.putJSON(t, admin, nsg+"/providers/Microsoft.Insights/diagnosticSettings/sixth", "2021-05-01-preview", ok); code != 400 || !strings.HasPrefix(msg, "BadRequest:") {
		t.Errorf("sixth setting: %d %s", code, msg)
	}
	if code, msg := e.putJSON(t, admin, nsg+"/providers/Microsoft.Insights/diagnosticSettings/s0", "2021-05-01-preview", ok); code != 200 {
		t.Errorf("update of the fifth: %d %s", code, msg)
	}

	// The write pipeline authorizes it: a reader of the group may list but
	// not write.
	reader, readerToken := e.newPrincipal(t, "diag-reader")
	if code, msg := e.putJSON(t, admin, rg+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString(), "2022-04-01", map[string]any{"properties": map[string]any{
		"roleDefinitionId": "/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
		"principalId":      reader}}); code != 201 {
		t.Fatalf("role assignment: %d %s", code, msg)
	}
	if code, msg := e.putJSON(t, readerToken, other+"/providers/Microsoft.Insights/diagnosticSettings/r", "2021-05-01-preview", ok); code != 403 || !strings.HasPrefix(msg, "AuthorizationFailed:") {
		t.Errorf("reader's write: %d %s", code, msg)
	}

	if _, err := diag.Delete(ctx, nsg, "to-hub", nil); err != nil {
		t.Fatal(err)
	}
	var re *azcore.ResponseError
	if _, err := diag.Get(ctx, nsg, "to-hub", nil); err == nil || !errors.As(err, &re) || re.StatusCode != 404 {
		t.Errorf("get after delete: %v", err)
	}
}

// TestDiagnosticSettingEnables checks which log entries send a category:
// the category itself or a group it belongs to, allLogs for any, and only
// when enabled.
func TestDiagnosticSettingEnables(t *testing.T) {
	cases := []struct {
		logs []cloud.DiagnosticLog
		want bool
	}{
		{[]cloud.DiagnosticLog{{Category: "AuditEvent", Enabled: true}}, true},
		{[]cloud.DiagnosticLog{{Category: "auditevent", Enabled: true}}, true},
		{[]cloud.DiagnosticLog{{Category: "AuditEvent", Enabled: false}}, false},
		{[]cloud.DiagnosticLog{{CategoryGroup: "audit", Enabled: true}}, true},
		{[]cloud.DiagnosticLog{{CategoryGroup: "allLogs", Enabled: true}}, true},
		{[]cloud.DiagnosticLog{{CategoryGroup: "allLogs", Enabled: false}}, false},
		{[]cloud.DiagnosticLog{{Category: "AzurePolicyEvaluationDetails", Enabled: true}}, false},
		{[]cloud.DiagnosticLog{{Category: "AuditEvent", Enabled: false}, {CategoryGroup: "audit", Enabled: true}}, true},
		{nil, false},
	}
	for i, c := range cases {
		if got := (cloud.DiagnosticSetting{Logs: c.logs}).Enables("AuditEvent", "audit"); got != c.want {
			t.Errorf("case %d %+v: Enables = %v, want %v", i, c.logs, got, c.want)
		}
	}
}
