package server

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"
	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/reports"
)

// TestScheduledAccessReportRaisesAndResolvesIncidents runs the access
// report as a job of steward serve: an unused role assignment raises one
// incident (common alert schema) at the action group's loopback webhook,
// a second run raises nothing new, and after the assignment is deleted
// the next run resolves it; the runs land in StewardReportRuns_CL.
func TestScheduledAccessReportRaisesAndResolvesIncidents(t *testing.T) {
	dir := t.TempDir()
	_, stop := startSteward(t, dir, CloudService())
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	info, err := identity.ReadBootstrap(dir)
	if err != nil {
		t.Fatal(err)
	}
	rg := "/subscriptions/" + info.SubscriptionID + "/resourceGroups/ops"
	wsID := rg + "/providers/Microsoft.OperationalInsights/workspaces/governance"
	groupID := rg + "/providers/Microsoft.Insights/actionGroups/ticketing"
	hook := &hookRecorder{}
	receiver := httptest.NewServer(hook)
	t.Cleanup(receiver.Close)
	clock := &fakeClock{now: time.Now()}
	var sched *reports.Scheduler
	s, _ := startSteward(t, dir, CloudService(), LogsService(), AlertsService(AlertsOptions{Disabled: true}),
		ReportsService(ReportsOptions{Workspace: wsID, ActionGroup: groupID, Now: clock.Now, Disabled: true, AccessDays: 30},
			func(r *reports.Scheduler) { sched = r }))
	e := newLogsEnvFor(t, s, dir)
	ctx := context.Background()
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	ws := e.mustARM(t, "PUT", wsID, "2022-10-01", map[string]any{"location": "eastus"})
	armOpts := &azarm.ClientOptions{ClientOptions: e.opts}
	armOpts.Cloud.Services = map[cloudServiceName]cloudServiceConfig{
		azcloud.ResourceManager: {Endpoint: e.s.BaseURL, Audience: "https://management.azure.com"}}
	groups, err := armmonitor.NewActionGroupsClient(e.sub, e.cred, armOpts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(ctx, "ops", "ticketing", armmonitor.ActionGroupResource{Location: to.Ptr("Global"),
		Properties: &armmonitor.ActionGroup{GroupShortName: to.Ptr("tickets"), Enabled: to.Ptr(true),
			WebhookReceivers: []*armmonitor.WebhookReceiver{{Name: to.Ptr("itsm"), ServiceURI: to.Ptr(receiver.URL + "/incidents"), UseCommonAlertSchema: to.Ptr(true)}}}}, nil); err != nil {
		t.Fatal(err)
	}
	// A Reader nobody uses.
	idle := uuid.NewString()
	assignment := rg + "/providers/Microsoft.Authorization/roleAssignments/" + uuid.NewString()
	e.mustARM(t, "PUT", assignment, "2022-04-01", map[string]any{"properties": map[string]any{"principalId": idle, "principalType": "User",
		"roleDefinitionId": "/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"}})

	incidents := func() []string {
		hook.mu.Lock()
		defer hook.mu.Unlock()
		var out []string
		for _, r := range hook.requests {
			ess, _ := r.body["data"].(map[string]any)["essentials"].(map[string]any)
			targets, _ := ess["alertTargetIDs"].([]any)
			if r.body["schemaId"] != "azureMonitorCommonAlertSchema" || len(targets) != 1 {
				out = append(out, fmt.Sprint("malformed ", r.body))
				continue
			}
			out = append(out, fmt.Sprint(ess["monitorCondition"], " ", ess["severity"], " ", strings.EqualFold(targets[0].(string), assignment)))
		}
		hook.requests = nil
		return out
	}
	tick := func() {
		t.Helper()
		if err := sched.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tick()
	if got := incidents(); len(got) != 1 || got[0] != "Fired Sev3 true" {
		t.Fatalf("first run: %v, want one incident for the idle Reader", got)
	}
	clock.Set(clock.Now().Add(DefaultReportsEvery + time.Minute))
	tick()
	if got := incidents(); len(got) != 0 {
		t.Fatalf("second run raised %v; the incident is open already", got)
	}
	e.mustARM(t, "DELETE", assignment, "2022-04-01", nil)
	clock.Set(clock.Now().Add(DefaultReportsEvery + time.Minute))
	tick()
	if got := incidents(); len(got) != 1 || got[0] != "Resolved Sev3 true" {
		t.Fatalf("after the deletion: %v, want the incident resolved", got)
	}
	runs, err := sched.Runs(ctx)
	if err != nil || len(runs) != 1 || runs[0].Job != "access" || runs[0].Error != "" || runs[0].Resolved != 1 {
		t.Fatalf("runs: %+v %v", runs, err)
	}

	qOpts := &query.ClientOptions{ClientOptions: e.opts}
	qOpts.Cloud.Services = map[cloudServiceName]cloudServiceConfig{
		query.ServiceName: {Audience: LogAnalyticsAudience, Endpoint: strings.TrimSuffix(e.s.BaseURL, "/") + "/v1"}}
	qc, err := query.NewClient(e.cred, qOpts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qc.QueryWorkspace(ctx, props(ws)["customerId"].(string), query.QueryBody{Query: to.Ptr(
		"StewardReportRuns_CL | summarize Runs=count(), Opened=sum(Opened_d), Resolved=sum(Resolved_d), Errors=countif(Error_s != '') by Job_s")}, nil)
	if err != nil || res.Error != nil || len(res.Tables) != 1 || len(res.Tables[0].Rows) != 1 {
		t.Fatalf("runs table: %v %v", err, res.Error)
	}
	if row := fmt.Sprint(res.Tables[0].Rows[0]); row != "[access 3 1 1 0]" {
		t.Errorf("StewardReportRuns_CL: %s", row)
	}
	// steward report jobs' query: the last run, resolving one incident.
	last, err := qc.QueryWorkspace(ctx, props(ws)["customerId"].(string), query.QueryBody{Query: to.Ptr(reports.JobsQuery)}, nil)
	if err != nil || last.Error != nil || len(last.Tables) != 1 || len(last.Tables[0].Rows) != 1 {
		t.Fatalf("jobs query: %v %v", err, last.Error)
	}
	cols := map[string]any{}
	for i, c := range last.Tables[0].Columns {
		cols[*c.Name] = last.Tables[0].Rows[0][i]
	}
	if cols["Job"] != "access" || cols["Status"] != "Succeeded" || cols["Resolved"] != 1.0 || cols["Findings"] != 0.0 || cols["Error"] != "" {
		t.Errorf("last run: %v", cols)
	}
}
