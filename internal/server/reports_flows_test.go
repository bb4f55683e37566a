package server

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/logs"
	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/reports"
)

// TestNetworkReportFindsDeniedFlowsInTrafficAnalytics seeds a workspace's
// NTANetAnalytics table (Traffic Analytics' columns) with allowed and
// denied flows and reads it through the Logs query client: one
// DeniedTrafficObserved finding per denying rule, with the summed flow
// counts and the latest flow as the sample; allowed flows, flows older
// than the window and rows without a rule are not reported. A workspace
// without the table is an error.
func TestNetworkReportFindsDeniedFlowsInTrafficAnalytics(t *testing.T) {
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), LogsService())
	e := newLogsEnvFor(t, s, dir)
	ctx := context.Background()
	rg := "/subscriptions/" + e.sub + "/resourceGroups/net"
	wsID := rg + "/providers/Microsoft.OperationalInsights/workspaces/flows"
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	ws := e.mustARM(t, "PUT", wsID, "2022-10-01", map[string]any{"location": "eastus"})
	cid := props(ws)["customerId"].(string)
	qc := e.queryClient(t)
	if _, err := reports.DeniedFlowsFrom(ctx, qc, cid, 7); err == nil {
		t.Fatal("a workspace without NTANetAnalytics gave no error")
	}

	nsg := rg + "/providers/Microsoft.Network/networkSecurityGroups/app-nsg"
	cols := []kql.Column{{Name: "TimeGenerated", Type: kql.TypeDateTime}, {Name: "FlowStatus", Type: kql.TypeString},
		{Name: "AclGroup", Type: kql.TypeString}, {Name: "AclRule", Type: kql.TypeString}, {Name: "SrcIp", Type: kql.TypeString},
		{Name: "DestIp", Type: kql.TypeString}, {Name: "DestPort", Type: kql.TypeInt}, {Name: "L4Protocol", Type: kql.TypeString},
		{Name: "FlowDirection", Type: kql.TypeString}, {Name: "DeniedInFlows", Type: kql.TypeLong}, {Name: "DeniedOutFlows", Type: kql.TypeLong},
		{Name: "AllowedInFlows", Type: kql.TypeLong}}
	now := time.Now().UTC()
	row := func(ago time.Duration, status, rule, src string, port int64, proto string, denied, allowed int64) kql.Row {
		return kql.Row{kql.DateTimeOf(now.Add(-ago)), kql.String(status), kql.String(nsg), kql.String(rule), kql.String(src),
			kql.String("10.0.1.4"), kql.Int(port), kql.String(proto), kql.String("Inbound"), kql.Long(denied), kql.Long(0), kql.Long(allowed)}
	}
	rows := []kql.Row{
		// deny-sql: 3 + 4 flows in the window, the latest from 10.0.2.7.
		row(2*time.Hour, "Denied", "UserRule_deny-sql", "10.0.2.5", 1433, "T", 3, 0),
		row(30*time.Minute, "D", "UserRule_deny-sql", "10.0.2.7", 1433, "T", 4, 0),
		// The default rule: 5 flows, UDP.
		row(time.Hour, "Denied", "DefaultRule_DenyAllInBound", "203.0.113.9", 161, "U", 5, 0),
		// Not reported: allowed, too old, no rule.
		row(time.Hour, "Allowed", "UserRule_allow-https", "198.51.100.1", 443, "T", 0, 9),
		row(10*24*time.Hour, "Denied", "UserRule_deny-old", "10.0.9.9", 22, "T", 2, 0),
		row(time.Hour, "Denied", "", "10.0.9.8", 22, "T", 1, 0),
	}
	svc := logs.New(s.Store, logs.Options{Sealer: s.Sealer})
	if err := svc.Rows.Append(ctx, cid, reports.FlowsTable, cols, rows, logs.Evolve); err != nil {
		t.Fatal(err)
	}
	findings, err := reports.DeniedFlowsFrom(ctx, qc, cid, 7)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range findings {
		if f.Kind != "DeniedTrafficObserved" || f.Severity != reports.Low || f.Report != "network" {
			t.Errorf("finding %+v", f)
		}
		got = append(got, fmt.Sprint(strings.TrimPrefix(f.ResourceID, nsg), " ", f.Details["deniedFlows"], " ",
			f.Details["sampleProtocol"], "/", f.Details["samplePort"], " from ", f.Details["sampleSource"]))
	}
	sort.Strings(got)
	want := []string{"/defaultSecurityRules/DenyAllInBound 5 udp/161 from 203.0.113.9", "/securityRules/deny-sql 7 tcp/1433 from 10.0.2.7"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
}
