package server

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/identity/graph"
	"github.com/steward-gov/steward/internal/reports"
)

// TestScheduledReportsRaiseAndResolveIncidents runs the reports as jobs
// of steward serve: an unused role assignment (access), SSH open from the
// Internet on a NIC with a public IP (network) and resources without
// diagnostic settings (logging) each raise one incident (common alert
// schema) at the action group's loopback webhook; a second run raises
// nothing new; once the assignment is deleted and the NSG denies SSH the
// next run resolves those two. Every job is registered and runs without
// error, and the runs land in StewardReportRuns_CL.
func TestScheduledReportsRaiseAndResolveIncidents(t *testing.T) {
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
		ReportsService(ReportsOptions{Workspace: wsID, ActionGroup: groupID, Now: clock.Now, Disabled: true, AccessDays: 30,
			Rogue: reports.RogueOptions{Pipelines: []string{uuid.NewString()}}},
			func(r *reports.Scheduler) { sched = r }))
	e := newLogsEnvFor(t, s, dir)
	ctx := context.Background()
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	ws := e.mustARM(t, "PUT", wsID, "2022-10-01", map[string]any{"location": "eastus"})
	groups, err := armmonitor.NewActionGroupsClient(e.sub, e.cred, e.armOptions())
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

	// A NIC with a public IP whose NSG lets SSH in from the Internet.
	vnetID := rg + "/providers/Microsoft.Network/virtualNetworks/vnet"
	e.mustARM(t, "PUT", vnetID, "2024-05-01", map[string]any{"location": "eastus", "properties": map[string]any{
		"addressSpace": map[string]any{"addressPrefixes": []string{"10.0.0.0/16"}},
		"subnets":      []any{map[string]any{"name": "front", "properties": map[string]any{"addressPrefix": "10.0.0.0/24"}}}}})
	nsgID, nicID, setSSH := sshOpenNIC(t, e, rg, vnetID+"/subnets/front")

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
			job := strings.TrimPrefix(fmt.Sprint(ess["alertRule"]), "steward-report-")
			if job == "rogue" {
				continue // everything here was made outside the (unused) pipeline: not this test's subject
			}
			target := targets[0].(string)
			if job == "access" && strings.HasPrefix(strings.ToLower(target), "/providers/microsoft.authorization/roleassignments/") {
				// The administrator's bootstrap Owner at the tenant root: its
				// writes here come after the fake clock's now, so it reads as
				// unused; not this test's subject.
				continue
			}
			switch {
			case strings.EqualFold(target, assignment):
				target = "assignment"
			case strings.EqualFold(target, wsID):
				target = "workspace"
			case strings.EqualFold(target, nsgID):
				target = "nsg"
			case strings.EqualFold(target, nicID):
				target = "nic"
			}
			out = append(out, fmt.Sprint(job, " ", ess["monitorCondition"], " ", ess["severity"], " ", target))
		}
		hook.requests = nil
		sort.Strings(out)
		return out
	}
	tick := func() {
		t.Helper()
		if err := sched.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tick()
	want := "[access Fired Sev3 assignment logging Fired Sev2 nsg logging Fired Sev2 workspace network Fired Sev1 nic]"
	if got := incidents(); fmt.Sprint(got) != want {
		t.Fatalf("first run: %v, want %s (the idle Reader, no diagnostic settings, SSH open from the Internet)", got, want)
	}
	clock.Set(clock.Now().Add(DefaultReportsEvery + time.Minute))
	tick()
	if got := incidents(); len(got) != 0 {
		t.Fatalf("second run raised %v; the incident is open already", got)
	}
	e.mustARM(t, "DELETE", assignment, "2022-04-01", nil)
	// The NIC's NSG now denies SSH: the network job's incident resolves.
	setSSH("Deny")
	clock.Set(clock.Now().Add(DefaultReportsEvery + time.Minute))
	// The administrator's secret has signed in: its record is written
	// before the last run, which puts it in StewardCredentials_CL.
	if err := s.usage.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	tick()
	if got := incidents(); len(got) != 2 || got[0] != "access Resolved Sev3 assignment" || got[1] != "network Resolved Sev1 nic" {
		t.Fatalf("after the deletion and the deny rule: %v, want both incidents resolved", got)
	}
	runs, err := sched.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var jobs []string
	for _, r := range runs {
		jobs = append(jobs, r.Job)
		if r.Error != "" {
			t.Errorf("job %s: %s", r.Job, r.Error)
		}
		if (r.Job == "access" || r.Job == "network") && r.Resolved != 1 {
			t.Errorf("job %s resolved %d, want 1", r.Job, r.Resolved)
		}
	}
	sort.Strings(jobs)
	if fmt.Sprint(jobs) != "[access benchmark credentials logging network rogue]" {
		t.Errorf("jobs run: %v", jobs)
	}

	qc := e.queryClient(t)
	res, err := qc.QueryWorkspace(ctx, props(ws)["customerId"].(string), query.QueryBody{Query: to.Ptr(
		"StewardReportRuns_CL | where Job_s == 'access' | summarize Runs=count(), Opened=sum(Opened_d), Resolved=sum(Resolved_d), Errors=countif(Error_s != '') by Job_s")}, nil)
	if err != nil || res.Error != nil || len(res.Tables) != 1 || len(res.Tables[0].Rows) != 1 {
		t.Fatalf("runs table: %v %v", err, res.Error)
	}
	// The idle Reader, and the administrator's root Owner (unused at the
	// first run's fake now, used at the second): two opened, two resolved.
	if row := fmt.Sprint(res.Tables[0].Rows[0]); row != "[access 3 2 2 0]" {
		t.Errorf("StewardReportRuns_CL: %s", row)
	}
	// steward report jobs' query: the last run, resolving one incident.
	last, err := qc.QueryWorkspace(ctx, props(ws)["customerId"].(string), query.QueryBody{Query: to.Ptr(reports.JobsQuery)}, nil)
	if err != nil || last.Error != nil || len(last.Tables) != 1 || len(last.Tables[0].Rows) != 6 {
		t.Fatalf("jobs query: %v %v", err, last.Error)
	}
	cols := map[string]any{}
	for i, c := range last.Tables[0].Columns {
		cols[*c.Name] = last.Tables[0].Rows[0][i]
	}
	if cols["Job"] != "access" || cols["Status"] != "Succeeded" || cols["Resolved"] != 1.0 || cols["Findings"] != 0.0 || cols["Error"] != "" {
		t.Errorf("last run: %v", cols)
	}
	// The credentials job's inventory: seed 002's key-age query runs on it,
	// and the administrator's client secret has a last use.
	inv, err := qc.QueryWorkspace(ctx, props(ws)["customerId"].(string), query.QueryBody{Query: to.Ptr(
		`StewardCredentials_CL | extend key_age = datetime_diff('day',now(),CreateDate_t) | where key_age >= 0 and Kind_s == 'AppPassword' and isnotnull(LastUsed_t) | summarize count() by Owner_s`)}, nil)
	if err != nil || inv.Error != nil || len(inv.Tables) != 1 {
		t.Fatalf("credentials table: %v %v", err, inv.Error)
	}
	if len(inv.Tables[0].Rows) != 1 {
		t.Errorf("StewardCredentials_CL application secrets with a last use: %v, want the administrator's", inv.Tables[0].Rows)
	}
}

// TestScheduledCredentialsReportReadsVaults runs the credentials job over
// a vault of the subscription through the Key Vault data plane: a secret
// without an expiry date is a finding (an incident opens), and once it
// expires in 60 days the next run resolves it. The data-plane calls leave
// one "last used" record per (principal, scope, data action).
func TestScheduledCredentialsReportReadsVaults(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{now: time.Now()}
	var sched *reports.Scheduler
	s, _ := startSteward(t, dir, CloudService(), VaultService(VaultOptions{}),
		ReportsService(ReportsOptions{Now: clock.Now, Disabled: true}, func(r *reports.Scheduler) { sched = r }))
	ctx := context.Background()
	cred, err := s.SecretCredential(s.Bootstrap.ClientID, s.Bootstrap.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	sub := s.Bootstrap.SubscriptionID
	armOpts := &azarm.ClientOptions{ClientOptions: s.ARMClientOptions()}
	res, err := armresources.NewClient(sub, cred, armOpts)
	if err != nil {
		t.Fatal(err)
	}
	rgs, _ := armresources.NewResourceGroupsClient(sub, cred, armOpts)
	if _, err := rgs.CreateOrUpdate(ctx, "apps", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	p, err := res.BeginCreateOrUpdateByID(ctx, "/subscriptions/"+sub+"/resourceGroups/apps/providers/Microsoft.KeyVault/vaults/creds-kv", "2023-07-01",
		armresources.GenericResource{Location: to.Ptr("westeurope"), Properties: map[string]any{"tenantId": s.Bootstrap.TenantID,
			"sku": map[string]any{"family": "A", "name": "standard"}, "enableRbacAuthorization": true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}
	vopts := sdkOptions(s)
	vopts.Transport = s.Transport()
	secrets, err := azsecrets.NewClient("https://creds-kv.vault.azure.net", adminCredential(t, dir, vopts), &azsecrets.ClientOptions{ClientOptions: vopts})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{Value: to.Ptr("s3cret")}, nil); err != nil {
		t.Fatal(err)
	}
	// The data plane records the read and the write, once each, for the
	// access report (reports.UsageOperations feeds it; its unit test shows
	// a data role used only so is not reported unused).
	for range 3 {
		if _, err := secrets.GetSecret(ctx, "db-password", "", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.usage.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	data, err := reports.UsageOperations(ctx, s.Store, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range data {
		if o.Action == reports.ActionCredentialSignIn {
			continue // the administrator's secret signing in (TestScheduledCredentialsReportShowsSignInsOfAppCredentials)
		}
		if o.PrincipalID != s.Bootstrap.ObjectID || !o.Data || !strings.HasSuffix(o.Scope, "/vaults/creds-kv/secrets/db-password") {
			t.Errorf("record %+v", o)
		}
		got = append(got, o.Action)
	}
	sort.Strings(got)
	if fmt.Sprint(got) != "[Microsoft.KeyVault/vaults/secrets/getSecret/action Microsoft.KeyVault/vaults/secrets/setSecret/action]" {
		t.Fatalf("data-plane records: %v", got)
	}
	// The credentials report shows the secret's last use.
	rows, err := credentialsReport(ctx, s, reports.CredentialSource{Source: reports.Source{Credential: cred, Options: armOpts, Subscription: sub},
		DataOptions: s.ARMClientOptions(), GraphBase: "https://" + GraphHost + "/" + graph.Version}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var lastUsed *time.Time
	for _, r := range rows {
		if r.Kind == reports.KindVaultSecret && r.Name == "db-password" {
			lastUsed = r.LastUsed
		}
	}
	if lastUsed == nil || time.Since(*lastUsed) > time.Hour {
		t.Fatalf("db-password last used %v, want the read just made (rows %+v)", lastUsed, rows)
	}
	credentialsRun := func() reports.JobRun {
		t.Helper()
		if err := sched.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		runs, err := sched.Runs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.Job == "credentials" {
				return r
			}
		}
		t.Fatalf("no credentials run in %+v", runs)
		return reports.JobRun{}
	}
	if r := credentialsRun(); r.Error != "" || r.Findings != 1 || r.Opened != 1 {
		t.Fatalf("first run: %+v, want the secret without expiry found", r)
	}
	if _, err := secrets.UpdateSecretProperties(ctx, "db-password", "", azsecrets.UpdateSecretPropertiesParameters{
		SecretAttributes: &azsecrets.SecretAttributes{Expires: to.Ptr(clock.Now().Add(60 * 24 * time.Hour))}}, nil); err != nil {
		t.Fatal(err)
	}
	clock.Set(clock.Now().Add(DefaultReportsEvery + time.Minute))
	if r := credentialsRun(); r.Error != "" || r.Findings != 0 || r.Resolved != 1 {
		t.Fatalf("after setting an expiry: %+v, want the finding resolved", r)
	}
}

// TestScheduledCredentialsReportShowsSignInsOfAppCredentials signs an
// application in through the Azure SDK with a client secret and with a
// certificate: the token endpoint records which credential it was (one
// record per credential however many tokens), and the credentials job's
// rows give those two a "last used" time and the app's unused secret none.
func TestScheduledCredentialsReportShowsSignInsOfAppCredentials(t *testing.T) {
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), ReportsService(ReportsOptions{Disabled: true}))
	ctx := context.Background()
	tenant := s.Bootstrap.TenantID
	app, _, err := s.Identity.CreateApplication(ctx, tenant, "payments-ci")
	if err != nil {
		t.Fatal(err)
	}
	secret, used, err := s.Identity.AddClientSecret(ctx, tenant, app.AppID, "used", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Identity.AddClientSecret(ctx, tenant, app.AppID, "unused", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "payments-ci"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	certCred, err := s.Identity.AddCertificate(ctx, tenant, app.AppID, "deploy-cert", cert)
	if err != nil {
		t.Fatal(err)
	}
	copts := azidentity.ClientCertificateCredentialOptions{ClientOptions: s.ARMClientOptions(), DisableInstanceDiscovery: true}
	byCert, err := azidentity.NewClientCertificateCredential(tenant, app.AppID, []*x509.Certificate{cert}, key, &copts)
	if err != nil {
		t.Fatal(err)
	}
	bySecret, err := s.SecretCredential(app.AppID, secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []azcore.TokenCredential{bySecret, byCert} {
		for _, scope := range []string{"https://management.azure.com/.default", "https://graph.microsoft.com/.default"} {
			if _, err := c.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.usage.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	records, err := reports.UsageOperations(ctx, s.Store, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var mine []string
	for _, o := range records {
		if o.PrincipalID == app.AppID {
			mine = append(mine, o.Action+" "+o.Scope)
		}
	}
	sort.Strings(mine)
	want := []string{
		reports.ActionCredentialSignIn + " /applications/" + app.ObjectID + "/keyCredentials/" + certCred.KeyID,
		reports.ActionCredentialSignIn + " /applications/" + app.ObjectID + "/passwordCredentials/" + used.KeyID,
	}
	sort.Strings(want)
	if fmt.Sprint(mine) != fmt.Sprint(want) {
		t.Fatalf("sign-in records %v, want %v", mine, want)
	}
	cred, err := s.SecretCredential(s.Bootstrap.ClientID, s.Bootstrap.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := credentialsReport(ctx, s, reports.CredentialSource{Source: reports.Source{Credential: cred,
		Options: &azarm.ClientOptions{ClientOptions: s.ARMClientOptions()}, Subscription: s.Bootstrap.SubscriptionID},
		DataOptions: s.ARMClientOptions(), GraphBase: "https://" + GraphHost + "/" + graph.Version}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]*time.Time{}
	for _, r := range rows {
		if r.Owner == "payments-ci" {
			seen[r.Kind+"/"+r.Name] = r.LastUsed
		}
	}
	recent := func(p *time.Time) bool { return p != nil && time.Since(*p) < time.Hour }
	if len(seen) != 3 || !recent(seen["AppPassword/used"]) || !recent(seen["AppCertificate/deploy-cert"]) || seen["AppPassword/unused"] != nil {
		t.Fatalf("last used of payments-ci's credentials: %v, want the used secret and the certificate only", seen)
	}
}
