package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"
)

// compliance is a subscription's latest compliance summary as the overview
// shows it.
type compliance struct {
	Subscription string
	// Percent is compliant resources over evaluated ones, -1 when none
	// was evaluated.
	Percent      int
	Compliant    int32
	NonCompliant int32
	Assignments  []assignmentBar
}

// assignmentBar is one bar of the non-compliant-by-assignment chart.
type assignmentBar struct {
	// ID is the assignment's resource ID, Link its drill-down page.
	ID, Link     string
	Name         string
	NonCompliant int32
	// Y and Width place the bar in the SVG (the template draws it).
	Y, Width int
}

// chartWidth is the bars' full width in SVG user units.
const chartWidth = 400

// summarize reads a subscription's latest policy states summary through
// the Azure SDK (Microsoft.PolicyInsights), as the user.
func (c *Console) summarize(ctx context.Context, s *session, subscriptionID string) (compliance, error) {
	out := compliance{Subscription: subscriptionID, Percent: -1}
	client, err := c.policyStates(s)
	if err != nil {
		return out, err
	}
	res, err := client.SummarizeForSubscription(ctx, armpolicyinsights.PolicyStatesSummaryResourceTypeLatest, subscriptionID, nil, nil)
	if err != nil {
		return out, err
	}
	if len(res.Value) == 0 || res.Value[0].Results == nil {
		return out, nil
	}
	sum := res.Value[0]
	for _, d := range sum.Results.ResourceDetails {
		if d.ComplianceState == nil || d.Count == nil {
			continue
		}
		switch strings.ToLower(*d.ComplianceState) {
		case "compliant":
			out.Compliant += *d.Count
		case "noncompliant":
			out.NonCompliant += *d.Count
		}
	}
	if total := out.Compliant + out.NonCompliant; total > 0 {
		out.Percent = int(out.Compliant * 100 / total)
	}
	var max int32
	for _, a := range sum.PolicyAssignments {
		if a.PolicyAssignmentID == nil || a.Results == nil || a.Results.NonCompliantResources == nil || *a.Results.NonCompliantResources == 0 {
			continue
		}
		id := *a.PolicyAssignmentID
		bar := assignmentBar{ID: id, Link: drillLink(subscriptionID, id), Name: id[strings.LastIndex(id, "/")+1:], NonCompliant: *a.Results.NonCompliantResources}
		max = maxInt32(max, bar.NonCompliant)
		out.Assignments = append(out.Assignments, bar)
	}
	sort.SliceStable(out.Assignments, func(i, j int) bool { return out.Assignments[i].NonCompliant > out.Assignments[j].NonCompliant })
	for i := range out.Assignments {
		out.Assignments[i].Y = i * 24
		out.Assignments[i].Width = int(int64(out.Assignments[i].NonCompliant) * chartWidth / int64(max))
	}
	return out, nil
}

func maxInt32(a, b int32) int32 {
	if a > b {
		return a
	}
	return b
}

// Label is the bar's text.
func (b assignmentBar) Label() string { return fmt.Sprintf("%s: %d", b.Name, b.NonCompliant) }

// The overview's compliance history comes from the policy states the
// collector writes to a workspace (PolicyComplianceStates_CL, one row per
// deployment, assignment and resource per run; docs/collector.md): Policy
// Insights keeps only each resource's latest state, so it has no history
// to draw. Compliance is compliant over compliant and non-compliant
// states, the latest of each state of a day.
const (
	trendTimespan = "P30D"
	trendQuery    = `PolicyComplianceStates_CL
| where ComplianceState in ("Compliant", "NonCompliant")
| summarize arg_max(TimeGenerated, ComplianceState) by Day = bin(TimeGenerated, 1d), TenantId, ApplicationId, PolicyAssignmentId, PolicyDefinitionReferenceId, ResourceId
| summarize Compliant = countif(ComplianceState == "Compliant"), Evaluated = count() by Day
| extend CompliancePercent = round(100.0 * Compliant / Evaluated, 1)
| project Day, CompliancePercent
| sort by Day asc
| render timechart`
	tenantsTimespan = "P1D"
	tenantsQuery    = `PolicyComplianceStates_CL
| summarize arg_max(TimeGenerated, ComplianceState) by TenantId, ApplicationId, PolicyAssignmentId, PolicyDefinitionReferenceId, ResourceId
| where ComplianceState == "NonCompliant"
| summarize NonCompliantResources = dcount(ResourceId) by TenantId
| sort by NonCompliantResources desc
| render columnchart`
)

// trendData is the overview's history section for one workspace.
type trendData struct {
	workspaceChoice
	Trend, Tenants *kqlData
	// Error is the text shown instead of the charts.
	Error string
	// Credentials counts the workspace's expired and expiring
	// credentials (the credentials page's report); CredentialsNote is
	// shown instead when there is none.
	Credentials     *kqlData
	CredentialsNote string
}

// trend runs the history queries on the chosen workspace (the first one
// by default) as the user.
func (c *Console) trend(r *http.Request, s *session) *trendData {
	t := &trendData{}
	var bad string
	t.Workspaces, t.Workspace, t.Error, bad = c.chooseWorkspace(r, s)
	if bad != "" {
		t.Error = bad
		return t
	}
	if t.Workspace == "" {
		return t
	}
	t.Trend = &kqlData{Workspace: t.Workspace, Query: trendQuery, Timespan: trendTimespan}
	t.Tenants = &kqlData{Workspace: t.Workspace, Query: tenantsQuery, Timespan: tenantsTimespan}
	if t.Error, _ = c.runQueries(r.Context(), s, t.Trend, t.Tenants); t.Error != "" {
		t.Trend, t.Tenants = nil, nil
		t.Error = missingTable(t.Error, "PolicyComplianceStates_CL", "No policy state was collected to this workspace (it has no PolicyComplianceStates_CL table).")
	}
	t.Credentials = &kqlData{Workspace: t.Workspace, Query: expiringCountQuery, Timespan: credentialsTimespan}
	if t.CredentialsNote, _ = c.runQueries(r.Context(), s, t.Credentials); t.CredentialsNote != "" {
		t.Credentials = nil
		t.CredentialsNote = missingTable(t.CredentialsNote, "StewardCredentials_CL", "No credential report was sent to this workspace in the last 7 days (steward report credentials --workspace).")
	}
	return t
}
