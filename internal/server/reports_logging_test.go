package server

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"

	"github.com/steward-gov/steward/internal/reports"
)

// TestLoggingFindingResolvesOnceADiagnosticSettingSendsToAWorkspace
// runs the logging report through the SDK on a subscription with an NSG
// and no diagnostic setting (NoDiagnosticSetting), then gives the NSG a
// diagnostic setting that sends its logs to a Log Analytics workspace
// through the SDK: the finding is gone.
func TestLoggingFindingResolvesOnceADiagnosticSettingSendsToAWorkspace(t *testing.T) {
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), LogsService())
	e := newLogsEnvFor(t, s, dir)
	ctx := context.Background()
	rg := "/subscriptions/" + e.sub + "/resourceGroups/net"
	wsID := rg + "/providers/Microsoft.OperationalInsights/workspaces/central"
	nsgID := rg + "/providers/Microsoft.Network/networkSecurityGroups/app-nsg"
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	e.mustARM(t, "PUT", wsID, "2022-10-01", map[string]any{"location": "eastus"})
	e.mustARM(t, "PUT", nsgID, "2024-05-01", map[string]any{"location": "eastus", "properties": map[string]any{"securityRules": []any{}}})
	armOpts := e.armOptions()
	src := reports.Source{Credential: e.cred, Options: armOpts, Subscription: e.sub}
	nsgFinding := func() string {
		t.Helper()
		findings, err := reports.LoggingFrom(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range findings {
			if strings.EqualFold(f.ResourceID, nsgID) {
				return f.Kind + ": " + f.Message
			}
		}
		return ""
	}
	if got := nsgFinding(); !strings.HasPrefix(got, "NoDiagnosticSetting: has no diagnostic setting") {
		t.Fatalf("before any setting: %q", got)
	}
	diag, err := armmonitor.NewDiagnosticSettingsClient(e.cred, armOpts)
	if err != nil {
		t.Fatal(err)
	}
	logs := []*armmonitor.LogSettings{{CategoryGroup: to.Ptr("allLogs"), Enabled: to.Ptr(true)}}
	if _, err := diag.CreateOrUpdate(ctx, nsgID, "to-central", armmonitor.DiagnosticSettingsResource{Properties: &armmonitor.DiagnosticSettings{
		WorkspaceID: to.Ptr(wsID), Logs: logs}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := nsgFinding(); got != "" {
		t.Fatalf("with a setting to a workspace the NSG is still found: %q", got)
	}
}
