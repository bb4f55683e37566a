package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/logs"
	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/reports"
	"github.com/steward-gov/steward/internal/server"
)

// TestReportNetworkReadsDeniedFlows runs report network with --flows on a
// workspace whose NTANetAnalytics table holds a denied flow: the estate's
// findings plus one DeniedTrafficObserved for the rule. --flows-days out
// of range is a usage error.
func TestReportNetworkReadsDeniedFlows(t *testing.T) {
	dir, s := serveCloud(t, server.CloudService(), server.LogsService())
	_, must := cliOn(t, dir)
	must("group", "create", "net", "-l", "westeurope")
	must("logs", "workspace", "create", "flows", "-g", "net", "-l", "westeurope")
	var ws workspace
	if err := json.Unmarshal([]byte(must("logs", "workspace", "show", "flows", "-g", "net", "-o", "json")), &ws); err != nil || ws.CustomerID == "" {
		t.Fatalf("workspace: %v %+v", err, ws)
	}
	nsg := "/subscriptions/" + s.Bootstrap.SubscriptionID + "/resourceGroups/net/providers/Microsoft.Network/networkSecurityGroups/front"
	cols := []kql.Column{{Name: "TimeGenerated", Type: kql.TypeDateTime}, {Name: "FlowStatus", Type: kql.TypeString},
		{Name: "AclGroup", Type: kql.TypeString}, {Name: "AclRule", Type: kql.TypeString}, {Name: "SrcIp", Type: kql.TypeString},
		{Name: "DestPort", Type: kql.TypeInt}, {Name: "L4Protocol", Type: kql.TypeString}, {Name: "FlowDirection", Type: kql.TypeString}, {Name: "DeniedInFlows", Type: kql.TypeLong}}
	rows := []kql.Row{{kql.DateTimeOf(time.Now().Add(-time.Hour)), kql.String("Denied"), kql.String(nsg), kql.String("UserRule_deny-rdp"),
		kql.String("192.0.2.10"), kql.Int(3389), kql.String("T"), kql.String("Inbound"), kql.Long(12)}}
	if err := logs.New(s.Store, logs.Options{Sealer: s.Sealer}).Rows.Append(context.Background(), ws.CustomerID,
		reports.FlowsTable, cols, rows, logs.Evolve); err != nil {
		t.Fatal(err)
	}
	out := must("report", "network", "../../examples/reports/network-estate.json", "--flows", ws.ID, "-o", "json", "--fail-on", "none")
	var findings []reports.Finding
	if err := json.Unmarshal([]byte(out), &findings); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	denied := 0
	for _, f := range findings {
		if f.Kind == "DeniedTrafficObserved" {
			denied++
			if f.ResourceID != nsg+"/securityRules/deny-rdp" || f.Details["deniedFlows"] != 12.0 || f.Details["sampleSource"] != "192.0.2.10" {
				t.Errorf("finding %+v", f)
			}
		}
	}
	if denied != 1 || len(findings) != 4 {
		t.Fatalf("%d findings, %d of denied traffic; want the estate's 3 and 1:\n%s", len(findings), denied, out)
	}
	// The customerId works as well.
	if out := must("report", "network", "../../examples/reports/network-estate.json", "--flows", ws.CustomerID, "--fail-on", "none"); !strings.Contains(out, "DeniedTrafficObserved") {
		t.Errorf("--flows CUSTOMER-ID:\n%s", out)
	}
	if _, err := runCLI(t, "report", "network", "../../examples/reports/network-estate.json", "--flows", ws.ID, "--flows-days", "0", "--data", dir); err == nil {
		t.Error("--flows-days 0 was accepted")
	} else if ex, ok := err.(*exitError); !ok || ex.code != exitUsage {
		t.Errorf("--flows-days 0: %v", err)
	}
}
