package server

import (
	"context"
	"crypto/tls"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/authorization"
	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/cloud/policyprovider"
	"github.com/steward-gov/steward/internal/logs"
	"github.com/steward-gov/steward/internal/logs/kql"
)

// consoleSetup mounts what the console's compliance pages read: role
// assignments, policy definitions and assignments, and continuous
// compliance (Policy Insights).
func consoleSetup(ctx context.Context, _ *Steward, c *cloud.Cloud) error {
	if err := authorization.Register(c); err != nil {
		return err
	}
	p, err := policyprovider.Register(c, policyprovider.Options{})
	if err != nil {
		return err
	}
	eng := insights.New(c, insights.Options{Assignments: p.Assignments, Cycle: 24 * time.Hour})
	if err := eng.Mount(); err != nil {
		return err
	}
	eng.Start(ctx)
	return nil
}

// consoleEstate is a Steward with the console, a workspace and a
// non-compliant network security group under an audit assignment.
type consoleEstate struct {
	*logsEnv
	dir, workspace, customerID, assignment, nsg string
}

func newConsoleEstate(t *testing.T) *consoleEstate {
	t.Helper()
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(consoleSetup), LogsService(), WebService())
	return seedConsoleEstate(t, s, dir)
}

// seedConsoleEstate writes the console estate's workspace, assignment and
// groups in s (whose cloud setup includes consoleSetup's).
func seedConsoleEstate(t testing.TB, s *Steward, dir string) *consoleEstate {
	t.Helper()
	e := &consoleEstate{logsEnv: newLogsEnvFor(t, s, dir), dir: dir}
	rg := "/subscriptions/" + e.sub + "/resourceGroups/console"
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	e.workspace = rg + "/providers/Microsoft.OperationalInsights/workspaces/ops"
	ws := e.mustARM(t, "PUT", e.workspace, "2022-10-01", map[string]any{"location": "eastus", "properties": map[string]any{}})
	e.customerID, _ = props(ws)["customerId"].(string)
	def := "/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/policyDefinitions/nsg-needs-env"
	e.mustARM(t, "PUT", def, "2021-06-01", map[string]any{"properties": map[string]any{
		"mode": "All", "displayName": "Network security groups need an env tag",
		"policyRule": map[string]any{
			"if": map[string]any{"allOf": []any{map[string]any{"field": "type", "equals": "Microsoft.Network/networkSecurityGroups"},
				map[string]any{"field": "tags['env']", "exists": "false"}}},
			"then": map[string]any{"effect": "audit"}}}})
	e.assignment = "/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/policyAssignments/nsg-needs-env"
	e.mustARM(t, "PUT", e.assignment, "2022-06-01", map[string]any{"properties": map[string]any{"policyDefinitionId": def}})
	e.nsg = rg + "/providers/Microsoft.Network/networkSecurityGroups/open-nsg"
	e.mustARM(t, "PUT", e.nsg, "2023-09-01", map[string]any{"location": "eastus", "properties": map[string]any{"securityRules": []any{}}})
	e.mustARM(t, "PUT", rg+"/providers/Microsoft.Network/networkSecurityGroups/tagged-nsg", "2023-09-01",
		map[string]any{"location": "eastus", "tags": map[string]any{"env": "prod"}, "properties": map[string]any{"securityRules": []any{}}})
	return e
}

// appendRows writes rows to a table of the estate's workspace, as the
// collector's ingestion and the report jobs do.
func (e *consoleEstate) appendRows(t testing.TB, table string, cols []kql.Column, rows []kql.Row, mode logs.AppendMode) {
	t.Helper()
	ctx := context.Background()
	r := logs.NewRows(e.s.Store, nil)
	if mode == logs.Fixed {
		if _, err := r.DefineTable(ctx, e.customerID, table, cols, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Append(ctx, e.customerID, table, cols, rows, mode); err != nil {
		t.Fatal(err)
	}
}

func (e *consoleEstate) browser(t testing.TB) *consoleBrowser { return newConsoleBrowser(t, e.s) }

// newConsoleBrowser is a cookie-keeping client of s's console that shows
// each redirect other than 302 to the test.
func newConsoleBrowser(t testing.TB, s *Steward) *consoleBrowser {
	jar, _ := cookiejar.New(nil)
	return &consoleBrowser{t: t, base: strings.TrimSuffix(s.BaseURL, "/"), c: &http.Client{Jar: jar,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool()}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// link returns the href of the first anchor whose text is text.
func link(t testing.TB, body, text string) string {
	t.Helper()
	m := regexp.MustCompile(`<a href="([^"]+)">` + regexp.QuoteMeta(html.EscapeString(text)) + `</a>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link %q in:\n%.3000s", text, body)
	}
	return html.UnescapeString(m[1])
}

// TestConsoleComplianceDrillDownAsReader follows the overview of a served
// Steward as a Reader down to the evaluated expressions of a
// non-compliant resource, and reads the compliance history from the
// collector's table; a user without a role is refused the same pages.
func TestConsoleComplianceDrillDownAsReader(t *testing.T) {
	e := newConsoleEstate(t)
	ctx := context.Background()
	day := time.Now().UTC().Truncate(24 * time.Hour)
	cols := []kql.Column{{Name: "TimeGenerated", Type: kql.TypeDateTime}, {Name: "TenantId", Type: kql.TypeString},
		{Name: "ApplicationId", Type: kql.TypeString}, {Name: "PolicyAssignmentId", Type: kql.TypeString},
		{Name: "PolicyDefinitionReferenceId", Type: kql.TypeString}, {Name: "ResourceId", Type: kql.TypeString},
		{Name: "ComplianceState", Type: kql.TypeString}}
	state := func(at time.Time, tenant, resource, st string) kql.Row {
		return kql.Row{kql.DateTime(logs.Ticks(at)), kql.String(tenant), kql.String("app"), kql.String("/a"), kql.String(""), kql.String(resource), kql.String(st)}
	}
	// Two days ago 1 of 4 states compliant; yesterday's later run makes
	// it 3 of 4; today tenant t2 has two non-compliant resources. Today's
	// states are from midnight: an hour ago is yesterday before 01:00.
	e.appendRows(t, "PolicyComplianceStates_CL", cols, []kql.Row{
		state(day.Add(-48*time.Hour+time.Hour), "t1", "r1", "Compliant"), state(day.Add(-48*time.Hour+time.Hour), "t1", "r2", "NonCompliant"),
		state(day.Add(-48*time.Hour+time.Hour), "t2", "r3", "NonCompliant"), state(day.Add(-48*time.Hour+time.Hour), "t2", "r4", "NonCompliant"),
		state(day.Add(-24*time.Hour+time.Hour), "t1", "r1", "Compliant"), state(day.Add(-24*time.Hour+time.Hour), "t1", "r2", "NonCompliant"),
		state(day.Add(-24*time.Hour+2*time.Hour), "t1", "r2", "Compliant"), state(day.Add(-24*time.Hour+time.Hour), "t2", "r3", "Compliant"),
		state(day.Add(-24*time.Hour+time.Hour), "t2", "r4", "NonCompliant"),
		state(day, "t2", "r3", "NonCompliant"), state(day, "t2", "r4", "NonCompliant"), state(day, "t1", "r1", "Compliant"),
	}, logs.Fixed)

	user, err := e.s.Identity.CreateUser(ctx, e.s.Bootstrap.TenantID, "ivy@steward.test", "Ivy", "Ivy-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	assignReader(t, e.s, e.dir, user.ID)
	b := e.browser(t)
	p := b.submit(b.get("/console/"), url.Values{"login": {"ivy@steward.test"}, "passwd": {"Ivy-Password-1"}})
	// Continuous compliance evaluates the groups as they are written;
	// wait (with a deadline) for the summary to count the open one.
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(p.body, ">nsg-needs-env</a>"); {
		if time.Now().After(deadline) {
			t.Fatalf("the overview shows no non-compliant assignment: %d\n%.3000s", p.status, p.body)
		}
		time.Sleep(200 * time.Millisecond)
		p = b.get("/console/")
	}
	for _, want := range []string{"% compliant</strong>", " compliant, 1 non-compliant resources", "Compliance % by day",
		"<td>25</td>", "<td>75</td>", "<td>33.3</td>", "Non-compliant resources by tenant", "<td>t2</td><td>2</td>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(p.body, `role="alert"`) {
		t.Errorf("the overview shows an error:\n%.3000s", p.body)
	}
	p = b.get(link(t, p.body, "nsg-needs-env"))
	if p.status != http.StatusOK || !strings.Contains(p.body, "1 non-compliant states") || strings.Contains(p.body, "tagged-nsg") {
		t.Fatalf("assignment page: %d\n%.3000s", p.status, p.body)
	}
	p = b.get(link(t, p.body, e.nsg))
	if p.status != http.StatusOK {
		t.Fatalf("resource page: %d\n%.3000s", p.status, p.body)
	}
	// The two conditions of the rule, both true for the open group.
	for _, want := range []string{"noncompliant", "evaluated expressions", "<td>field</td><td>type</td><td>type</td><td>equals</td>",
		"<td>field</td><td>tags[&#39;env&#39;]</td><td>tags[&#39;env&#39;]</td><td>exists</td><td></td><td>&#34;false&#34;</td><td class=\"ok\">true</td>"} {
		if !strings.Contains(strings.ToLower(p.body), want) {
			t.Errorf("resource page lacks %q:\n%.4000s", want, p.body)
		}
	}

	// Someone with no role is refused the drill-down by the API.
	if _, err := e.s.Identity.CreateUser(ctx, e.s.Bootstrap.TenantID, "joe@steward.test", "Joe", "Joe-Password-1"); err != nil {
		t.Fatal(err)
	}
	nb := e.browser(t)
	p = nb.submit(nb.get("/console/compliance/resource?"+url.Values{"subscription": {e.sub}, "assignment": {e.assignment}, "resource": {e.nsg}}.Encode()),
		url.Values{"login": {"joe@steward.test"}, "passwd": {"Joe-Password-1"}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "AuthorizationFailed") || strings.Contains(p.body, "Evaluated expressions") {
		t.Fatalf("no role, resource page: %d\n%.2000s", p.status, p.body)
	}
}

// TestConsoleAccessPageAsReader shows the unused role assignments of the
// latest access report run a workspace holds.
func TestConsoleAccessPageAsReader(t *testing.T) {
	e := newConsoleEstate(t)
	ctx := context.Background()
	now := time.Now().UTC()
	ts := func(d time.Duration) kql.Value { return kql.DateTime(logs.Ticks(now.Add(d))) }
	runCols := []kql.Column{{Name: "TimeGenerated", Type: kql.TypeDateTime}, {Name: "Job_s", Type: kql.TypeString},
		{Name: "Status_s", Type: kql.TypeString}, {Name: "Started_t", Type: kql.TypeDateTime}, {Name: "Findings_d", Type: kql.TypeReal}, {Name: "Error_s", Type: kql.TypeString}}
	e.appendRows(t, "StewardReportRuns_CL", runCols, []kql.Row{
		{ts(-50 * time.Hour), kql.String("access"), kql.String("Succeeded"), ts(-50 * time.Hour), kql.Real(1), kql.String("")},
		{ts(-2 * time.Hour), kql.String("access"), kql.String("Succeeded"), ts(-2 * time.Hour), kql.Real(2), kql.String("")},
		{ts(-time.Hour), kql.String("access"), kql.String("Failed"), ts(-time.Hour), kql.Real(0), kql.String("the activity log could not be read")},
	}, logs.Evolve)
	fCols := []kql.Column{{Name: "TimeGenerated", Type: kql.TypeDateTime}, {Name: "Job_s", Type: kql.TypeString}, {Name: "Kind_s", Type: kql.TypeString},
		{Name: "Severity_s", Type: kql.TypeString}, {Name: "ResourceId_s", Type: kql.TypeString}, {Name: "Message_s", Type: kql.TypeString}, {Name: "Fingerprint_s", Type: kql.TypeString}}
	ra := "/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/roleAssignments/"
	e.appendRows(t, "StewardReportFindings_CL", fCols, []kql.Row{
		{ts(-50 * time.Hour), kql.String("access"), kql.String("UnusedRoleAssignment"), kql.String("medium"), kql.String(ra + "old"), kql.String("gone since"), kql.String("f0")},
		{ts(-2 * time.Hour), kql.String("access"), kql.String("UnusedRoleAssignment"), kql.String("low"), kql.String(ra + "reader"), kql.String("User u1 has not used role Reader"), kql.String("f1")},
		{ts(-2 * time.Hour), kql.String("access"), kql.String("UnusedRoleAssignment"), kql.String("medium"), kql.String(ra + "contrib"), kql.String("User u2 has not used role Contributor"), kql.String("f2")},
		{ts(-2 * time.Hour), kql.String("access"), kql.String("OverPrivilegedRoleAssignment"), kql.String("low"), kql.String(ra + "owner"), kql.String("narrower"), kql.String("f3")},
	}, logs.Evolve)
	user, err := e.s.Identity.CreateUser(ctx, e.s.Bootstrap.TenantID, "kim@steward.test", "Kim", "Kim-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	p := b.submit(b.get("/console/access"), url.Values{"login": {"kim@steward.test"}, "passwd": {"Kim-Password-1"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "No workspace you may read") || strings.Contains(p.body, "contrib") {
		t.Fatalf("access page without a role: %d\n%.2000s", p.status, p.body)
	}
	assignReader(t, e.s, e.dir, user.ID)
	p = b.get("/console/access")
	if p.status != http.StatusOK {
		t.Fatalf("access page: %d\n%.3000s", p.status, p.body)
	}
	i, j := strings.Index(p.body, ra+"contrib"), strings.Index(p.body, ra+"reader")
	if i < 0 || j < 0 || i > j || strings.Contains(p.body, ra+"old") || strings.Contains(p.body, ra+"owner") ||
		!strings.Contains(p.body, "Failed") || !strings.Contains(p.body, "2 of 2 rows") {
		t.Fatalf("access page: the latest run's two unused assignments, medium first:\n%.4000s", p.body)
	}
}

// TestConsoleDelegationAsReader shows the delegation analysis the
// management API computes: a Reader sees that it can grant nothing, and
// sees the administrator's escalation paths; a user without a role is
// refused by the API; bad input is a 400.
func TestConsoleDelegationAsReader(t *testing.T) {
	e := newConsoleEstate(t)
	ctx := context.Background()
	user, err := e.s.Identity.CreateUser(ctx, e.s.Bootstrap.TenantID, "max@steward.test", "Max", "Max-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Identity.CreateUser(ctx, e.s.Bootstrap.TenantID, "ned@steward.test", "Ned", "Ned-Password-1"); err != nil {
		t.Fatal(err)
	}
	assignReader(t, e.s, e.dir, user.ID)
	scope := "/subscriptions/" + e.sub
	b := e.browser(t)
	p := b.submit(b.get("/console/delegation"), url.Values{"login": {"max@steward.test"}, "passwd": {"Max-Password-1"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, `value="`+scope+`"`) || !strings.Contains(p.body, `value="`+user.ID+`"`) {
		t.Fatalf("delegation form: %d\n%.3000s", p.status, p.body)
	}
	p = b.get("/console/delegation?" + url.Values{"scope": {scope}, "principal": {user.ID}}.Encode())
	if p.status != http.StatusOK || !strings.Contains(p.body, "The principal can grant no role here.") || !strings.Contains(p.body, "No escalation path.") {
		t.Fatalf("the Reader's own analysis: %d\n%.3000s", p.status, p.body)
	}
	p = b.get("/console/delegation?" + url.Values{"scope": {scope}, "principal": {e.info.ObjectID}, "targets": {user.ID}}.Encode())
	if p.status != http.StatusOK || !strings.Contains(p.body, "escalation paths</h2>") ||
		!regexp.MustCompile(`<th scope="row">Owner</th><td>User</td><td class="ok"[^>]*>allowed</td>`).MatchString(p.body) ||
		!strings.Contains(p.body, `<th scope="col">`+user.ID+` (listed)</th>`) {
		t.Fatalf("the administrator's analysis: %d\n%.5000s", p.status, p.body)
	}
	for _, bad := range []url.Values{{"scope": {scope}, "principal": {"not-a-guid"}}, {"scope": {"/x' or 1"}, "principal": {user.ID}}} {
		if p = b.get("/console/delegation?" + bad.Encode()); p.status != http.StatusBadRequest {
			t.Errorf("%v: %d", bad, p.status)
		}
	}
	// The API itself refuses what the console would not send.
	if code, out := e.arm(t, "GET", scope+"/providers/Microsoft.Authorization/delegationAnalysis", "2022-04-01&principalId=x", nil); code != http.StatusBadRequest {
		t.Errorf("bad principal: %d %v", code, out)
	}
	nb := e.browser(t)
	p = nb.submit(nb.get("/console/delegation?"+url.Values{"scope": {scope}, "principal": {user.ID}}.Encode()),
		url.Values{"login": {"ned@steward.test"}, "passwd": {"Ned-Password-1"}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "AuthorizationFailed") {
		t.Fatalf("no role: %d\n%.2000s", p.status, p.body)
	}
}
