package reports

import (
	"context"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
)

// FlowsTable is the Traffic Analytics table of virtual network and NSG
// flow logs that the network report reads denied traffic from.
const FlowsTable = "NTANetAnalytics"

// DeniedFlowsQuery sums, per NSG (AclGroup) and rule (AclRule), the
// denied flows of the last %d days, with the latest flow's source,
// destination port, protocol and direction as a sample. FlowStatus is
// "Denied" (or Traffic Analytics' one-letter "D"); a table with only
// one of the two flow counts is read too.
const DeniedFlowsQuery = FlowsTable + `
| where TimeGenerated > ago(%dd)
| where FlowStatus =~ 'Denied' or FlowStatus =~ 'D'
| where isnotempty(AclGroup) and isnotempty(AclRule)
| extend Denied = coalesce(column_ifexists('DeniedInFlows', long(0)), long(0)) + coalesce(column_ifexists('DeniedOutFlows', long(0)), long(0))
| summarize Flows = sum(Denied), Records = count(), arg_max(TimeGenerated, SrcIp, DestPort, L4Protocol, FlowDirection) by AclGroup, AclRule`

// DeniedFlow is one row of DeniedFlowsQuery.
type DeniedFlow struct {
	NSG, Rule                   string
	Flows, Records              int64
	Source, Protocol, Direction string
	Port                        int64
}

// DeniedFlows turns denied-traffic rows into DeniedTrafficObserved
// findings, one per rule: traffic was attempted and that rule denied it,
// which is either the rule working or the rule being too restrictive (a
// person decides; the finding is low). The resource is the rule:
// {nsg}/securityRules/{name}, or /defaultSecurityRules/{name} for
// Traffic Analytics' DefaultRule_ names (UserRule_ is stripped).
func DeniedFlows(rows []DeniedFlow) []Finding {
	out := make([]Finding, 0, len(rows))
	for _, r := range rows {
		coll, name := "securityRules", r.Rule
		if n, ok := cutPrefixFold(name, "DefaultRule_"); ok {
			coll, name = "defaultSecurityRules", n
		} else if n, ok := cutPrefixFold(name, "UserRule_"); ok {
			name = n
		}
		flows := r.Flows
		if flows == 0 {
			flows = r.Records // rows without flow counts: one flow each
		}
		proto := map[string]string{"t": "tcp", "u": "udp"}[strings.ToLower(r.Protocol)]
		if proto == "" {
			proto = strings.ToLower(r.Protocol)
		}
		out = append(out, Finding{Report: "network", Kind: "DeniedTrafficObserved", Severity: Low,
			ResourceID: strings.TrimRight(r.NSG, "/") + "/" + coll + "/" + name,
			Message: fmt.Sprintf("rule %s denied %d flows (latest: %s from %s to port %d); check it is not too restrictive",
				name, flows, proto, r.Source, r.Port),
			Details: map[string]any{"rule": name, "deniedFlows": flows, "sampleSource": r.Source, "samplePort": r.Port,
				"sampleProtocol": proto, "sampleDirection": r.Direction}})
	}
	return out
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// DeniedFlowsFrom runs DeniedFlowsQuery over the last days days in the
// workspace (its customerId) through the Logs query client and returns
// the findings. A workspace without the table is an error (the query
// fails), not an empty result.
func DeniedFlowsFrom(ctx context.Context, qc *query.Client, workspace string, days int) ([]Finding, error) {
	if days < 1 || days > MaxActivityDays {
		return nil, fmt.Errorf("flow days %d: want 1 to %d", days, MaxActivityDays)
	}
	res, err := qc.QueryWorkspace(ctx, workspace, query.QueryBody{Query: to.Ptr(fmt.Sprintf(DeniedFlowsQuery, days))}, nil)
	if err != nil {
		return nil, err
	}
	if res.Error != nil {
		return nil, res.Error
	}
	if len(res.Tables) != 1 {
		return nil, fmt.Errorf("the denied-flows query returned %d tables, want 1", len(res.Tables))
	}
	var rows []DeniedFlow
	for _, t := range res.Tables {
		col := map[string]int{}
		for i, c := range t.Columns {
			col[deref(c.Name)] = i
		}
		str := func(r query.Row, name string) string {
			s, _ := r[col[name]].(string)
			return s
		}
		num := func(r query.Row, name string) int64 {
			f, _ := r[col[name]].(float64)
			return int64(f)
		}
		for _, r := range t.Rows {
			rows = append(rows, DeniedFlow{NSG: str(r, "AclGroup"), Rule: str(r, "AclRule"), Flows: num(r, "Flows"),
				Records: num(r, "Records"), Source: str(r, "SrcIp"), Port: num(r, "DestPort"), Protocol: str(r, "L4Protocol"),
				Direction: str(r, "FlowDirection")})
		}
	}
	return DeniedFlows(rows), nil
}
