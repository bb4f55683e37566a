package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	ingest "github.com/Azure/azure-sdk-for-go/sdk/monitor/ingestion/azlogs"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"
	"github.com/emersion/go-smtp"

	"github.com/steward-gov/steward/internal/alerts"
)

// fakeClock is a settable clock for the evaluator.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// hookRecorder is a webhook receiver that answers failStatus to the first
// fail requests and 200 after, recording every request.
type hookRecorder struct {
	mu       sync.Mutex
	fail     int
	requests []hookRequest
}

type hookRequest struct {
	key    string
	status int
	body   map[string]any
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	h.mu.Lock()
	defer h.mu.Unlock()
	status := http.StatusOK
	if h.fail > 0 {
		h.fail--
		status = http.StatusServiceUnavailable
	}
	h.requests = append(h.requests, hookRequest{key: r.Header.Get(alerts.IdempotencyHeader), status: status, body: body})
	w.WriteHeader(status)
}

// delivered returns the payloads the receiver accepted.
func (h *hookRecorder) delivered() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hookRequest
	for _, r := range h.requests {
		if r.status == http.StatusOK {
			out = append(out, r)
		}
	}
	return out
}

// mailbox is an SMTP server (go-smtp) that keeps what it receives.
type mailbox struct {
	mu   sync.Mutex
	msgs []string
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }

type mailSession struct {
	m  *mailbox
	to string
}

func (s *mailSession) Reset()                                    {}
func (s *mailSession) Logout() error                             { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.m.mu.Lock()
	msg := string(b)
	if head, body, ok := strings.Cut(msg, "\r\n\r\n"); ok && strings.Contains(head, "base64") {
		dec, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(body, "\r\n", ""))
		msg = head + "\r\n\r\n" + string(dec)
	}
	s.m.msgs = append(s.m.msgs, "To:"+s.to+"\n"+msg)
	s.m.mu.Unlock()
	return err
}

func (m *mailbox) messages() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.msgs...)
}

func startMailbox(t *testing.T) (*mailbox, string) {
	t.Helper()
	mb := &mailbox{}
	srv := smtp.NewServer(mb)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return mb, ln.Addr().String()
}

// TestSeed000AlertFiresAndResolves is seed 000's alert, end to end: policy
// states land in PolicyComplianceStates_CL, a rule on the latest state per
// assignment fires with a webhook payload and an email when a
// non-compliant row arrives, and resolves when a later row for the same
// assignment is compliant.
func TestSeed000AlertFiresAndResolves(t *testing.T) {
	mb, smtpAddr := startMailbox(t)
	hook := &hookRecorder{}
	receiver := httptest.NewServer(hook)
	t.Cleanup(receiver.Close)
	clock := &fakeClock{now: time.Now()}
	var svc *alerts.Service
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), LogsService(), AlertsService(AlertsOptions{
		Mailer: alerts.SMTPMailer{Addr: smtpAddr, From: "alerts@steward.local"}, Now: clock.Now, Disabled: true,
	}, func(a *alerts.Service) { svc = a }))
	e := newLogsEnvFor(t, s, dir)
	ctx := context.Background()

	rg := "/subscriptions/" + e.sub + "/resourceGroups/collector"
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	wsID := rg + "/providers/Microsoft.OperationalInsights/workspaces/publisher"
	e.mustARM(t, "PUT", wsID, "2022-10-01", map[string]any{"location": "eastus", "properties": map[string]any{}})
	upload := policyStatesIngestion(t, e, rg, wsID)

	// The rule and the action group, with the Azure SDK's monitor client.
	armOpts := &azarm.ClientOptions{ClientOptions: e.opts}
	armOpts.Cloud.Services = map[cloudServiceName]cloudServiceConfig{
		azcloud.ResourceManager: {Endpoint: e.s.BaseURL, Audience: "https://management.azure.com"}}
	groups, err := armmonitor.NewActionGroupsClient(e.sub, e.cred, armOpts)
	if err != nil {
		t.Fatal(err)
	}
	group, err := groups.CreateOrUpdate(ctx, "collector", "publisher-oncall", armmonitor.ActionGroupResource{
		Location: to.Ptr("Global"),
		Properties: &armmonitor.ActionGroup{GroupShortName: to.Ptr("oncall"), Enabled: to.Ptr(true),
			WebhookReceivers: []*armmonitor.WebhookReceiver{{Name: to.Ptr("ticketing"), ServiceURI: to.Ptr(receiver.URL + "/alerts"), UseCommonAlertSchema: to.Ptr(true)}},
			EmailReceivers:   []*armmonitor.EmailReceiver{{Name: to.Ptr("publisher"), EmailAddress: to.Ptr("oncall@publisher.example"), UseCommonAlertSchema: to.Ptr(true)}},
		}}, nil)
	if err != nil {
		t.Fatalf("action group: %v", err)
	}
	if st := group.Properties.EmailReceivers[0].Status; st == nil || *st != armmonitor.ReceiverStatusEnabled {
		t.Errorf("email receiver status = %v", st)
	}
	rules, err := armmonitor.NewScheduledQueryRulesClient(e.sub, e.cred, armOpts)
	if err != nil {
		t.Fatal(err)
	}
	rule := armmonitor.ScheduledQueryRuleResource{Location: to.Ptr("eastus"), Properties: &armmonitor.ScheduledQueryRuleProperties{
		Description: to.Ptr("A policy of the managed application is violated"),
		Severity:    to.Ptr(armmonitor.AlertSeverityTwo), Enabled: to.Ptr(true),
		Scopes:              []*string{to.Ptr(wsID)},
		EvaluationFrequency: to.Ptr("PT5M"), WindowSize: to.Ptr("PT5M"),
		Criteria: &armmonitor.ScheduledQueryRuleCriteria{AllOf: []*armmonitor.Condition{{
			Query:           to.Ptr("PolicyComplianceStates_CL | summarize arg_max(TimeGenerated,*) by Policy_assignment_id | where Is_compliant==false"),
			TimeAggregation: to.Ptr(armmonitor.TimeAggregationCount),
			Operator:        to.Ptr(armmonitor.ConditionOperatorGreaterThan), Threshold: to.Ptr[float64](0),
			Dimensions:     []*armmonitor.Dimension{{Name: to.Ptr("Policy_assignment_id"), Operator: to.Ptr(armmonitor.DimensionOperatorInclude), Values: []*string{to.Ptr("*")}}},
			FailingPeriods: &armmonitor.ConditionFailingPeriods{NumberOfEvaluationPeriods: to.Ptr[int64](1), MinFailingPeriodsToAlert: to.Ptr[int64](1)},
		}}},
		Actions: &armmonitor.Actions{ActionGroups: []*string{group.ID}, CustomProperties: map[string]*string{"publisher": to.Ptr("contoso")}},
	}}
	if _, err := rules.CreateOrUpdate(ctx, "collector", "policy-violations", rule, nil); err != nil {
		t.Fatalf("rule: %v", err)
	}
	// The service validates at PUT: an unknown operator and a bad query
	// are refused with 400.
	bad := rule
	bad.Properties = &(*rule.Properties)
	badCrit := *rule.Properties.Criteria.AllOf[0]
	badCrit.Query = to.Ptr("PolicyComplianceStates_CL | where (")
	bad.Properties.Criteria = &armmonitor.ScheduledQueryRuleCriteria{AllOf: []*armmonitor.Condition{&badCrit}}
	if _, err := rules.CreateOrUpdate(ctx, "collector", "broken", bad, nil); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("a rule with a broken query: %v", err)
	}

	// A non-compliant state arrives.
	t0 := time.Now().UTC()
	due := t0.Truncate(5 * time.Minute).Add(5 * time.Minute)
	upload(map[string]any{"TimeGenerated": t0.Format(time.RFC3339Nano), "Policy_assignment_id": "/a/deny-public-ip", "Resource_id": "vm1", "Is_compliant": false},
		map[string]any{"TimeGenerated": t0.Format(time.RFC3339Nano), "Policy_assignment_id": "/a/require-tags", "Resource_id": "vm1", "Is_compliant": true})
	tick := func(at time.Time) {
		t.Helper()
		clock.Set(at)
		if err := svc.Tick(ctx); err != nil {
			t.Fatalf("tick at %s: %v", at, err)
		}
	}
	tick(due.Add(10 * time.Second))
	got := hook.delivered()
	if len(got) != 1 {
		t.Fatalf("after the violation: %d notifications, want 1 (%+v)", len(got), svc)
	}
	ess := got[0].body["data"].(map[string]any)["essentials"].(map[string]any)
	if ess["monitorCondition"] != "Fired" || ess["severity"] != "Sev2" || ess["alertRule"] != "policy-violations" || ess["signalType"] != "Log" {
		t.Errorf("fired essentials: %v", ess)
	}
	cond := got[0].body["data"].(map[string]any)["alertContext"].(map[string]any)["condition"].(map[string]any)["allOf"].([]any)[0].(map[string]any)
	if dims := cond["dimensions"].([]any); len(dims) != 1 || dims[0].(map[string]any)["value"] != "/a/deny-public-ip" {
		t.Errorf("fired dimensions: %v", cond["dimensions"])
	}
	if got[0].body["data"].(map[string]any)["customProperties"].(map[string]any)["publisher"] != "contoso" {
		t.Errorf("customProperties: %v", got[0].body["data"])
	}
	if msgs := mb.messages(); len(msgs) != 1 || !strings.Contains(msgs[0], "oncall@publisher.example") || !strings.Contains(msgs[0], "Fired:Sev2") {
		t.Errorf("emails: %q", msgs)
	}

	// The alert is listed by the alerts API as fired.
	list := e.mustARM(t, "GET", "/subscriptions/"+e.sub+"/providers/Microsoft.AlertsManagement/alerts", "2019-05-05-preview", nil)
	alertsList, _ := list["value"].([]any)
	if len(alertsList) != 1 {
		t.Fatalf("alerts: %v", list)
	}
	alertID := alertsList[0].(map[string]any)["id"].(string)
	if es := props(alertsList[0].(map[string]any))["essentials"].(map[string]any); es["monitorCondition"] != "Fired" || es["alertState"] != "New" {
		t.Errorf("alert essentials: %v", es)
	}

	// Evaluating again while it is still violated sends nothing more.
	upload(map[string]any{"TimeGenerated": due.Add(time.Minute).Format(time.RFC3339Nano), "Policy_assignment_id": "/a/deny-public-ip", "Resource_id": "vm1", "Is_compliant": false})
	tick(due.Add(5*time.Minute + 10*time.Second))
	// The customer fixes it: a later row for the same assignment is
	// compliant.
	upload(map[string]any{"TimeGenerated": due.Add(6 * time.Minute).Format(time.RFC3339Nano), "Policy_assignment_id": "/a/deny-public-ip", "Resource_id": "vm1", "Is_compliant": true})
	tick(due.Add(10*time.Minute + 10*time.Second))
	tick(due.Add(15*time.Minute + 10*time.Second))
	if n := len(hook.delivered()); n != 1 {
		t.Fatalf("before the quiet period ends: %d notifications", n)
	}
	tick(due.Add(20*time.Minute + 10*time.Second))
	got = hook.delivered()
	if len(got) != 2 {
		t.Fatalf("after the fix: %d notifications, want 2", len(got))
	}
	ess2 := got[1].body["data"].(map[string]any)["essentials"].(map[string]any)
	if ess2["monitorCondition"] != "Resolved" || ess2["alertId"] != ess["alertId"] || ess2["resolvedDateTime"] == nil {
		t.Errorf("resolved essentials: %v (fired %v)", ess2, ess["alertId"])
	}
	if got[0].key == got[1].key || got[0].key == "" {
		t.Errorf("idempotency keys: %q %q", got[0].key, got[1].key)
	}
	if n := len(mb.messages()); n != 2 {
		t.Errorf("emails after the fix: %d", n)
	}

	// Close the alert through the API.
	closed := e.mustARM(t, "POST", alertID+"/changestate", "2019-05-05-preview&newState=Closed", nil)
	if es := props(closed)["essentials"].(map[string]any); es["alertState"] != "Closed" || es["monitorCondition"] != "Resolved" {
		t.Errorf("closed alert: %v", es)
	}
	sum := e.mustARM(t, "GET", "/subscriptions/"+e.sub+"/providers/Microsoft.AlertsManagement/alertsSummary", "2019-05-05-preview&groupby=alertState", nil)
	if p := props(sum); p["total"] != float64(1) {
		t.Errorf("summary: %v", sum)
	}
	h, err := svc.RuleHealth(ctx, *must(rules.Get(ctx, "collector", "policy-violations", nil)).ID)
	if err != nil || h.LastError != "" || h.LastEvaluated.IsZero() {
		t.Errorf("health: %+v %v", h, err)
	}
}

func must[T any](v T, err error) *T {
	if err != nil {
		panic(err)
	}
	return &v
}

// policyStatesIngestion creates PolicyComplianceStates_CL in the workspace
// with a data collection rule that feeds it, grants the administrator the
// publisher role, and returns an upload function (the Logs Ingestion API).
func policyStatesIngestion(t *testing.T, e *logsEnv, rg, wsID string) func(rows ...map[string]any) {
	t.Helper()
	cols := []any{
		map[string]any{"name": "TimeGenerated", "type": "datetime"},
		map[string]any{"name": "Policy_assignment_id", "type": "string"},
		map[string]any{"name": "Resource_id", "type": "string"},
		map[string]any{"name": "Is_compliant", "type": "boolean"},
	}
	e.mustARM(t, "PUT", wsID+"/tables/PolicyComplianceStates_CL", "2022-10-01", map[string]any{"properties": map[string]any{
		"schema": map[string]any{"name": "PolicyComplianceStates_CL", "columns": cols}}})
	dceID := rg + "/providers/Microsoft.Insights/dataCollectionEndpoints/states"
	dce := e.mustARM(t, "PUT", dceID, "2022-06-01", map[string]any{"location": "eastus", "properties": map[string]any{}})
	endpoint, _ := props(dce)["logsIngestion"].(map[string]any)["endpoint"].(string)
	dcrID := rg + "/providers/Microsoft.Insights/dataCollectionRules/states"
	dcr := e.mustARM(t, "PUT", dcrID, "2022-06-01", map[string]any{"location": "eastus", "properties": map[string]any{
		"dataCollectionEndpointId": dceID,
		"streamDeclarations":       map[string]any{"Custom-States": map[string]any{"columns": cols}},
		"destinations":             map[string]any{"logAnalytics": []any{map[string]any{"name": "ws", "workspaceResourceId": wsID}}},
		"dataFlows": []any{map[string]any{"streams": []any{"Custom-States"}, "destinations": []any{"ws"},
			"transformKql": "source", "outputStream": "Custom-PolicyComplianceStates_CL"}}}})
	immutableID, _ := props(dcr)["immutableId"].(string)
	e.mustARM(t, "PUT", dcrID+"/providers/Microsoft.Authorization/roleAssignments/5d0c7e0a-3b7e-4f43-9d2c-7b1f0f4a6c11", "2022-04-01",
		map[string]any{"properties": map[string]any{
			"roleDefinitionId": "/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/roleDefinitions/3913510d-42f4-4e42-8a64-420c390055eb",
			"principalId":      e.info.ObjectID, "principalType": "ServicePrincipal"}})
	opts := &ingest.ClientOptions{ClientOptions: e.opts}
	opts.Cloud.Services = map[cloudServiceName]cloudServiceConfig{ingest.ServiceNameIngestion: {Audience: MonitorAudience}}
	up, err := ingest.NewClient(endpoint, e.cred, opts)
	if err != nil {
		t.Fatal(err)
	}
	return func(rows ...map[string]any) {
		t.Helper()
		b, _ := json.Marshal(rows)
		if _, err := up.Upload(context.Background(), immutableID, "Custom-States", b, nil); err != nil {
			t.Fatalf("upload: %v", err)
		}
	}
}
