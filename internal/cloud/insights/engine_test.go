package insights_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/identity"
)

// states queries {scope}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults
// and returns "resource/assignment/reference=state" sorted.
func (e *env) states(t testing.TB, scope string, params url.Values) []string {
	t.Helper()
	if params == nil {
		params = url.Values{}
	}
	params.Set("api-version", "2024-10-01")
	code, b := e.do(t, http.MethodPost, scope+"/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults?"+params.Encode(), nil)
	if code != http.StatusOK {
		t.Fatalf("query %s: %d %s", scope, code, b)
	}
	var out struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range out.Value {
		s := lastSegment(v["resourceId"].(string)) + "/" + v["policyAssignmentName"].(string)
		if ref, _ := v["policyDefinitionReferenceId"].(string); ref != "" {
			s += "/" + ref
		}
		got = append(got, s+"="+v["complianceState"].(string))
	}
	sort.Strings(got)
	return got
}

func TestComplianceFollowsWritesAndPolicyChanges(t *testing.T) {
	e := newEnv(t, insights.Options{})
	sub := "/subscriptions/" + e.sub
	e.put(t, e.rg("a"), "2021-04-01", map[string]any{"location": "westeurope"})
	e.put(t, e.rg("skip"), "2021-04-01", map[string]any{"location": "westeurope"})
	e.storage(t, "a", "sa1", false)
	e.storage(t, "skip", "sa2", false)
	def := e.httpsDefinition(t, "secure-transfer")
	check := func(step string, want ...string) {
		t.Helper()
		e.waitIdle(t)
		if got := strings.Join(e.states(t, sub, nil), " "); got != strings.Join(want, " ") {
			t.Errorf("%s: %s, want %s", step, got, strings.Join(want, " "))
		}
	}
	check("no assignment")
	e.assign(t, sub, "audit", def, map[string]any{"notScopes": []string{e.rg("skip")}})
	check("a new assignment is evaluated in the background", "sa1/audit=NonCompliant")
	e.storage(t, "a", "sa1", true)
	check("a write is evaluated at once", "sa1/audit=Compliant")
	e.storage(t, "a", "sa3", false)
	e.put(t, e.rg("a")+"/providers/Microsoft.Authorization/policyExemptions/waive", "2022-07-01-preview",
		map[string]any{"properties": map[string]any{"policyAssignmentId": sub + "/providers/Microsoft.Authorization/policyAssignments/audit",
			"exemptionCategory": "Waiver"}})
	check("an exemption makes the states Exempt", "sa1/audit=Exempt", "sa3/audit=Exempt")
	code, b := e.do(t, http.MethodDelete, e.rg("a")+"/providers/Microsoft.Authorization/policyExemptions/waive?api-version=2022-07-01-preview", nil)
	if code != http.StatusOK {
		t.Fatalf("delete exemption: %d %s", code, b)
	}
	check("removing the exemption re-evaluates", "sa1/audit=Compliant", "sa3/audit=NonCompliant")
	e.assign(t, sub, "audit", def, nil)
	check("removing a notScope brings its resources in", "sa1/audit=Compliant", "sa2/audit=NonCompliant", "sa3/audit=NonCompliant")
	code, _ = e.do(t, http.MethodDelete, e.rg("a")+"/providers/Microsoft.Web/sites/sa3?api-version=2023-01-01", nil)
	if code != http.StatusOK {
		t.Fatalf("delete resource: %d", code)
	}
	check("a deleted resource loses its states", "sa1/audit=Compliant", "sa2/audit=NonCompliant")
	code, _ = e.do(t, http.MethodDelete, sub+"/providers/Microsoft.Authorization/policyAssignments/audit?api-version=2023-04-01", nil)
	if code != http.StatusOK {
		t.Fatalf("delete assignment: %d", code)
	}
	check("a deleted assignment's states go")
}

func TestInitiativeStatesCarryReferencesAndGroups(t *testing.T) {
	e := newEnv(t, insights.Options{})
	sub := "/subscriptions/" + e.sub
	e.put(t, e.rg("a"), "2021-04-01", map[string]any{"location": "westeurope"})
	def := e.httpsDefinition(t, "secure-transfer")
	set := sub + "/providers/Microsoft.Authorization/policySetDefinitions/baseline"
	e.put(t, set, "2023-04-01", map[string]any{"properties": map[string]any{
		"policyDefinitionGroups": []any{map[string]any{"name": "storage"}},
		"policyDefinitions": []any{
			map[string]any{"policyDefinitionId": def, "policyDefinitionReferenceId": "httpsAudit", "groupNames": []string{"storage"}},
			map[string]any{"policyDefinitionId": def, "policyDefinitionReferenceId": "httpsDisabled",
				"parameters": map[string]any{"effect": map[string]any{"value": "Disabled"}}},
		}}})
	e.assign(t, e.rg("a"), "baseline", set, nil)
	e.waitIdle(t)
	e.storage(t, "a", "sa1", false)
	if got := strings.Join(e.states(t, sub, nil), " "); got != "sa1/baseline/httpsAudit=NonCompliant" {
		t.Errorf("states: %s (a disabled member has none)", got)
	}
	if got := e.states(t, sub, url.Values{"$filter": {"'storage' in PolicyDefinitionGroupNames"}}); len(got) != 1 {
		t.Errorf("group filter: %v", got)
	}
	setScope := sub + "/providers/Microsoft.Authorization/policySetDefinitions/baseline"
	if got := e.states(t, setScope, nil); len(got) != 1 {
		t.Errorf("set definition scope: %v", got)
	}
	defScope := sub + "/providers/Microsoft.Authorization/policyDefinitions/secure-transfer"
	if got := e.states(t, defScope, nil); len(got) != 1 {
		t.Errorf("definition scope: %v", got)
	}
	assignmentScope := e.rg("a") + "/providers/Microsoft.Authorization/policyAssignments/baseline"
	if got := e.states(t, assignmentScope, nil); len(got) != 1 {
		t.Errorf("assignment scope: %v", got)
	}
}

func TestManagementGroupAssignment(t *testing.T) {
	e := newEnv(t, insights.Options{})
	mg := "/providers/Microsoft.Management/managementGroups/platform"
	e.put(t, e.rg("a"), "2021-04-01", map[string]any{"location": "westeurope"})
	e.storage(t, "a", "sa1", false) // evaluated while the subscription is under the root group
	e.put(t, mg, "2021-04-01", map[string]any{"properties": map[string]any{"displayName": "Platform"}})
	e.put(t, mg+"/subscriptions/"+e.sub, "2021-04-01", nil)
	def := e.httpsDefinition(t, "secure-transfer")
	_ = def
	mgDef := mg + "/providers/Microsoft.Authorization/policyDefinitions/secure-transfer"
	code, b := e.do(t, http.MethodGet, def+"?api-version=2023-04-01", nil)
	if code != http.StatusOK {
		t.Fatalf("get definition: %d %s", code, b)
	}
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	e.put(t, mgDef, "2023-04-01", map[string]any{"properties": doc["properties"]})
	e.assign(t, mg, "mg-audit", mgDef, nil)
	e.waitIdle(t)
	e.storage(t, "a", "sa2", false) // the write hook sees the subscription's new group
	got := e.states(t, mg, nil)
	if strings.Join(got, " ") != "sa1/mg-audit=NonCompliant sa2/mg-audit=NonCompliant" {
		t.Fatalf("management group scope: %v", got)
	}
	params := url.Values{"api-version": {"2024-10-01"}, "$select": {"ManagementGroupIds, PolicyAssignmentScope"}}
	code, b = e.do(t, http.MethodPost, mg+"/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults?"+params.Encode(), nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"managementGroupIds":"platform,`) ||
		!strings.Contains(string(b), `"policyAssignmentScope":"`+mg+`"`) {
		t.Errorf("managementGroupIds: %d %s", code, b)
	}
	e.put(t, mg+"/providers/Microsoft.Authorization/policyExemptions/waive", "2022-07-01-preview",
		map[string]any{"properties": map[string]any{"policyAssignmentId": mg + "/providers/Microsoft.Authorization/policyAssignments/mg-audit",
			"exemptionCategory": "Mitigated"}})
	e.waitIdle(t)
	if got := e.states(t, mg, nil); strings.Join(got, " ") != "sa1/mg-audit=Exempt sa2/mg-audit=Exempt" {
		t.Errorf("an exemption at the management group: %v", got)
	}
}

func TestPolicyStatesAPIErrors(t *testing.T) {
	e := newEnv(t, insights.Options{})
	sub := "/subscriptions/" + e.sub
	q := "/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults?api-version=2024-10-01"
	cases := []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, sub + q, http.StatusNotFound, "ResourceTypeNotSupported"},
		{http.MethodPut, sub + q, http.StatusMethodNotAllowed, "HttpMethodNotSupported"},
		{http.MethodPost, sub + "/providers/Microsoft.PolicyInsights/policyStates/newest/queryResults?api-version=2024-10-01", http.StatusBadRequest, "InvalidPolicyStatesResource"},
		{http.MethodPost, sub + "/providers/Microsoft.PolicyInsights/policyStates/default/summarize?api-version=2024-10-01", http.StatusBadRequest, "InvalidPolicyStatesResource"},
		{http.MethodPost, sub + q + "&$filter=" + url.QueryEscape("IsCompliant eq"), http.StatusBadRequest, "InvalidQueryParameterValue"},
		{http.MethodPost, sub + q + "&$apply=" + url.QueryEscape("groupby(("), http.StatusBadRequest, "InvalidQueryParameterValue"},
		{http.MethodPost, sub + q + "&$top=-1", http.StatusBadRequest, "InvalidQueryParameterValue"},
		{http.MethodPost, sub + q + "&$from=yesterday", http.StatusBadRequest, "InvalidQueryParameterValue"},
		{http.MethodPost, sub + q + "&$skiptoken=%21%21", http.StatusBadRequest, "InvalidSkipToken"},
		{http.MethodPost, sub + q + "&$expand=everything", http.StatusBadRequest, "InvalidQueryParameterValue"},
		{http.MethodPost, "/subscriptions/00000000-0000-0000-0000-000000000001" + q, http.StatusNotFound, "SubscriptionNotFound"},
		{http.MethodPost, sub + "/resourceGroups/none/providers/Microsoft.Web/sites/x/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation?api-version=2024-10-01", http.StatusBadRequest, "InvalidRequestUri"},
		{http.MethodGet, sub + "/providers/Microsoft.PolicyInsights/asyncOperationResults/nope?api-version=2024-10-01", http.StatusNotFound, "OperationNotFound"},
	}
	for _, c := range cases {
		code, b := e.do(t, c.method, c.path, nil)
		var env struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(b, &env)
		if code != c.status || env.Error.Code != c.code {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, code, b, c.status, c.code)
		}
	}
}

func TestTimeWindowSelectsStates(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	clock := now
	e := newEnv(t, insights.Options{Clock: func() time.Time { return clock }})
	sub := "/subscriptions/" + e.sub
	e.put(t, e.rg("a"), "2021-04-01", map[string]any{"location": "westeurope"})
	e.assign(t, sub, "audit", e.httpsDefinition(t, "secure-transfer"), nil)
	e.waitIdle(t)
	e.storage(t, "a", "sa1", false)
	clock = now.Add(48 * time.Hour)
	if got := e.states(t, sub, nil); len(got) != 0 {
		t.Errorf("a state older than a day is outside latest's default window: %v", got)
	}
	from := url.Values{"$from": {now.Add(-time.Hour).Format(time.RFC3339)}}
	if got := e.states(t, sub, from); len(got) != 1 {
		t.Errorf("$from reaches it: %v", got)
	}
}

// TestScanKeepsNewerStates: a scan that evaluated a resource before a
// write (its clock earlier than the write's) leaves the state the write
// produced.
func TestScanKeepsNewerStates(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	clock := t0
	e := newEnv(t, insights.Options{Clock: func() time.Time { return clock }})
	sub := "/subscriptions/" + e.sub
	e.put(t, e.rg("a"), "2021-04-01", map[string]any{"location": "westeurope"})
	e.assign(t, sub, "audit", e.httpsDefinition(t, "secure-transfer"), nil)
	e.waitIdle(t)
	for i := range 10 {
		e.storage(t, "a", "sa"+string(rune('0'+i)), false)
	}
	clock = t0.Add(10 * time.Second)
	e.storage(t, "a", "sa0", true)
	clock = t0.Add(5 * time.Second)
	if err := e.engine.ScanScope(t.Context(), sub); err != nil {
		t.Fatal(err)
	}
	got := e.stamps(t, sub, url.Values{"$from": {t0.Add(-time.Hour).Format(time.RFC3339)}, "$to": {t0.Add(time.Hour).Format(time.RFC3339)}})
	if len(got) != 10 {
		t.Fatalf("%d states, want 10: %v", len(got), got)
	}
	for k, ts := range got {
		want := t0.Add(5 * time.Second)
		if strings.HasPrefix(k, "sa0/") {
			want = t0.Add(10 * time.Second)
		}
		if !ts.Equal(want) {
			t.Errorf("%s evaluated at %s, want %s", k, ts, want)
		}
	}
}

// TestReplicasShareScansThroughLeases: two engines on one store (two
// replicas) take a queued scan once between them.
func TestReplicasShareScansThroughLeases(t *testing.T) {
	e := newEnv(t, insights.Options{})
	e.engine.Stop()
	ctx := t.Context()
	other := insights.New(e.s.Cloud, insights.Options{Owner: "replica-2"})
	for round := range 5 {
		if err := e.engine.Enqueue(ctx, "/subscriptions/"+e.sub, ""); err != nil {
			t.Fatal(err)
		}
		ran := make(chan int, 2)
		for _, eng := range []*insights.Engine{e.engine, other} {
			go func() { ran <- eng.RunPending(ctx) }()
		}
		if n := <-ran + <-ran; n != 1 {
			t.Errorf("round %d: the scan ran %d times", round, n)
		}
		if e.engine.Pending(ctx) {
			t.Errorf("round %d: a scan is still queued", round)
		}
	}
}

// TestPolicyStatesAccess: reading states needs read access at the scope
// (Reader has it); triggering an evaluation needs the action Reader lacks.
func TestPolicyStatesAccess(t *testing.T) {
	e := newEnv(t, insights.Options{})
	ctx := t.Context()
	app, sp, err := e.s.Identity.CreateApplication(ctx, e.s.Bootstrap.TenantID, "auditor")
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := e.s.Identity.AddClientSecret(ctx, e.s.Bootstrap.TenantID, app.AppID, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.s.Identity.Token(ctx, identity.TokenRequest{Tenant: e.s.Bootstrap.TenantID, ClientID: app.AppID,
		ClientSecret: secret, Scope: "https://management.azure.com/.default", Authorities: []string{e.s.BaseURL}})
	if err != nil {
		t.Fatal(err)
	}
	sub := "/subscriptions/" + e.sub
	query := sub + "/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults?api-version=2024-10-01"
	trigger := sub + "/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation?api-version=2024-10-01"
	as := func(path string) int {
		req, _ := http.NewRequest(http.MethodPost, strings.TrimSuffix(e.s.BaseURL, "/")+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := e.s.Transport().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := as(query); code != http.StatusForbidden {
		t.Errorf("query without a role: %d, want 403", code)
	}
	reader := sub + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
	e.put(t, sub+"/providers/Microsoft.Authorization/roleAssignments/6f1f4a4e-63c3-4e0b-9a53-6c1b1e9c2d11", "2022-04-01",
		map[string]any{"properties": map[string]any{"roleDefinitionId": reader, "principalId": sp.ID, "principalType": "ServicePrincipal"}})
	if code := as(query); code != http.StatusOK {
		t.Errorf("query as Reader: %d, want 200", code)
	}
	if code := as(trigger); code != http.StatusForbidden {
		t.Errorf("trigger as Reader: %d, want 403", code)
	}
}
