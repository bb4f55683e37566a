package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"

	"github.com/steward-gov/steward/internal/alerts"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/reports"
)

// TestReportIncidentsAreMailedToEmailReceivers sends report incidents
// through an action group whose only receiver is an email address, over
// SMTP to an in-process go-smtp server: every new finding of a run is one
// mail (the common alert schema's essentials in the subject and the body),
// a second run mails nothing, and the run after SSH is closed mails one
// "Resolved" for the network finding (with any other resolutions, one
// mail each).
func TestReportIncidentsAreMailedToEmailReceivers(t *testing.T) {
	dir := t.TempDir()
	_, stop := startSteward(t, dir, CloudService())
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	info, err := identity.ReadBootstrap(dir)
	if err != nil {
		t.Fatal(err)
	}
	mb, smtpAddr := startMailbox(t)
	rg := "/subscriptions/" + info.SubscriptionID + "/resourceGroups/ops"
	groupID := rg + "/providers/Microsoft.Insights/actionGroups/oncall"
	clock := &fakeClock{now: time.Now()}
	var sched *reports.Scheduler
	s, _ := startSteward(t, dir, CloudService(), LogsService(), AlertsService(AlertsOptions{Disabled: true}),
		ReportsService(ReportsOptions{ActionGroup: groupID, Now: clock.Now, Disabled: true, AccessDays: 30,
			Mailer: alerts.SMTPMailer{Addr: smtpAddr, From: "reports@steward.local"}},
			func(r *reports.Scheduler) { sched = r }))
	e := newLogsEnvFor(t, s, dir)
	ctx := context.Background()
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	groups, err := armmonitor.NewActionGroupsClient(e.sub, e.cred, e.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(ctx, "ops", "oncall", armmonitor.ActionGroupResource{Location: to.Ptr("Global"),
		Properties: &armmonitor.ActionGroup{GroupShortName: to.Ptr("oncall"), Enabled: to.Ptr(true),
			EmailReceivers: []*armmonitor.EmailReceiver{{Name: to.Ptr("secops"), EmailAddress: to.Ptr("secops@contoso.test"),
				UseCommonAlertSchema: to.Ptr(true)}}}}, nil); err != nil {
		t.Fatal(err)
	}
	_, nicID, setSSH := sshOpenNIC(t, e, rg, "")

	seen := 0
	// run ticks the scheduler once and returns the mails it caused, after
	// checking there is one per incident opened or resolved.
	run := func() []string {
		t.Helper()
		if err := sched.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		runs, err := sched.Runs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, r := range runs {
			if r.NotifyErr != "" || r.Error != "" {
				t.Fatalf("job %s: error %q, notify error %q", r.Job, r.Error, r.NotifyErr)
			}
			want += r.Opened + r.Resolved
		}
		all := mb.messages()
		got := all[seen:]
		seen = len(all)
		if len(got) != want {
			t.Fatalf("%d mails, want one per incident opened or resolved (%d): %v", len(got), want, got)
		}
		return got
	}
	subjectOf := func(msg string) string {
		for _, l := range strings.Split(msg, "\r\n") {
			if s, ok := strings.CutPrefix(l, "Subject: "); ok {
				return s
			}
		}
		return ""
	}
	find := func(mails []string, subject string) string {
		for _, m := range mails {
			if subjectOf(m) == subject {
				return m
			}
		}
		return ""
	}
	first := run()
	fired := find(first, "Fired:Sev1 Azure Monitor Alert steward-report-network on web-nic")
	if fired == "" {
		t.Fatalf("no mail for the NIC open to SSH among %d", len(first))
	}
	// alertTargetIDs are lower-cased, as Azure Monitor sends them.
	for _, want := range []string{"To:secops@contoso.test", `"schemaId": "azureMonitorCommonAlertSchema"`, `"monitorCondition": "Fired"`, strings.ToLower(nicID)} {
		if !strings.Contains(fired, want) {
			t.Errorf("the mail lacks %q:\n%s", want, fired)
		}
	}
	clock.Set(clock.Now().Add(DefaultReportsEvery + time.Minute))
	if again := run(); find(again, "Fired:Sev1 Azure Monitor Alert steward-report-network on web-nic") != "" {
		t.Fatalf("the second run mailed the open incident again")
	}
	setSSH("Deny")
	clock.Set(clock.Now().Add(DefaultReportsEvery + time.Minute))
	third := run()
	resolved := find(third, "Resolved:Sev1 Azure Monitor Alert steward-report-network on web-nic")
	if resolved == "" || !strings.Contains(resolved, `"monitorCondition": "Resolved"`) || !strings.Contains(resolved, "resolvedDateTime") {
		t.Fatalf("no resolution mail for the NIC among %v", third)
	}
}
