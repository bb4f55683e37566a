package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
)

const workspaceID = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws1"

func TestChartTimechart(t *testing.T) {
	cols := []chartColumn{{"TimeGenerated", "datetime"}, {"Computer", "string"}, {"count_", "long"}}
	rows := [][]any{
		{"2026-12-06T10:00:00Z", "a", float64(0)}, {"2026-12-06T11:00:00Z", "a", float64(10)},
		{"2026-12-06T10:00:00Z", "b", float64(5)}, {"2026-12-06T11:00:00Z", "b", "NaN"},
	}
	ch := drawChart("timechart", cols, rows)
	if ch.Note != "" || len(ch.Lines) != 2 {
		t.Fatalf("chart = %+v", ch)
	}
	// Series a spans the plot: from the bottom left to the top right.
	if ch.Lines[0].Label != "a" || ch.Lines[0].Points != "60.0,270.0 620.0,10.0" {
		t.Errorf("line a = %+v", ch.Lines[0])
	}
	// NaN is not drawn; 5 of 10 is half-way up.
	if ch.Lines[1].Label != "b" || ch.Lines[1].Points != "60.0,140.0" {
		t.Errorf("line b = %+v", ch.Lines[1])
	}
	if ch.XMin != "2026-12-06T10:00:00Z" || ch.XMax != "2026-12-06T11:00:00Z" || ch.YMax != "10" {
		t.Errorf("axes = %s %s %s", ch.XMin, ch.XMax, ch.YMax)
	}
}

func TestChartColumnsAndPie(t *testing.T) {
	cols := []chartColumn{{"Level", "string"}, {"n", "long"}}
	rows := [][]any{{"Error", float64(4)}, {"Warning", float64(2)}, {"Info", float64(2)}}
	ch := drawChart("columnchart", cols, rows)
	if len(ch.Bars) != 3 || ch.Bars[0].H != 260 || ch.Bars[1].H != 130 || ch.Bars[0].Label != "Error: 4" {
		t.Errorf("columns = %+v", ch.Bars)
	}
	pie := drawChart("piechart", cols, rows)
	if len(pie.Slices) != 3 || pie.Slices[0].Label != "Error: 4 (50.0%)" {
		t.Fatalf("pie = %+v", pie.Slices)
	}
	// Half the pie: from the top, clockwise, to the bottom.
	if pie.Slices[0].Path != "M 160.0 160.0 L 160.0 20.0 A 140.0 140.0 0 0 1 160.0 300.0 Z" {
		t.Errorf("first slice = %s", pie.Slices[0].Path)
	}
	if n := drawChart("piechart", []chartColumn{{"s", "string"}}, rows); n.Note == "" || len(n.Slices) != 0 {
		t.Errorf("a pie without numbers: %+v", n)
	}
	if n := drawChart("scatterchart", cols, rows); !strings.Contains(n.Note, "scatterchart") {
		t.Errorf("an unknown kind: %+v", n)
	}
}

// fakeCloud is a token service, management API and Log Analytics query API
// in one: the token endpoint redeems refresh tokens (rotating them) for
// Log Analytics tokens; queries answer only the owner.
type fakeCloud struct {
	url     string
	mu      sync.Mutex
	refresh map[string]string // refresh token -> user token prefix
	queries []string
	prefer  []string
	// decided are the vending decisions made.
	decided []string
}

// vending answers as the vending API: the owner is an approver of the
// reader's pending request; deciding needs a fresh MFA, which the fake
// reads from the token name ("-stale" tokens lack it).
func (f *fakeCloud) vending(w http.ResponseWriter, r *http.Request, auth string) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/vending/v1/requests" && auth == "Bearer reader-token-vending":
		_, _ = io.WriteString(w, `{"value":[{"id":"r1","caller":"u1","status":"PendingApproval","request":{"subscriptionId":"s1","name":"web","environment":"prod","costCenter":"cc1","region":"westeurope"},"createdAt":"2026-12-06T10:00:00Z"}]}`)
	case r.Method == http.MethodGet && r.URL.Path == "/vending/v1/requests" && auth == "Bearer owner-token-vending":
		_, _ = io.WriteString(w, `{"value":[{"id":"r1","caller":"someone-else","status":"PendingApproval","request":{"subscriptionId":"s1","name":"web","environment":"prod","costCenter":"cc1","region":"westeurope"},"createdAt":"2026-12-06T10:00:00Z"}]}`)
	case r.Method == http.MethodPost && r.URL.Path == "/vending/v1/requests/r1/approve" && auth == "Bearer owner-token-vending":
		var body struct{ Reason string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.decided = append(f.decided, "approve:"+body.Reason)
		_, _ = io.WriteString(w, `{"id":"r1","status":"InProgress"}`)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/vending/v1/requests/r1/"):
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"error":{"code":"NotApprover","message":"no"}}`)
	default:
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"code":"InvalidAuthenticationToken","message":"no"}}`)
	}
}

func (f *fakeCloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/t/v2.0/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": f.url + "/t/v2.0", "authorization_endpoint": f.url + "/t/oauth2/v2.0/authorize",
			"token_endpoint": f.url + "/t/oauth2/v2.0/token", "jwks_uri": f.url + "/t/keys", "id_token_signing_alg_values_supported": []string{"RS256"}})
		return
	case "/t/oauth2/v2.0/token":
		_ = r.ParseForm()
		who, ok := f.refresh[r.PostForm.Get("refresh_token")]
		scope, _ := strings.CutSuffix(r.PostForm.Get("scope"), " offline_access")
		if !ok || r.PostForm.Get("grant_type") != "refresh_token" || (scope != "https://api.loganalytics.io/.default" && scope != VendingScope) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		delete(f.refresh, r.PostForm.Get("refresh_token"))
		next := randomString()
		f.refresh[next] = who
		suffix := "-logs"
		if scope == VendingScope {
			suffix = "-vending"
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": who + suffix, "refresh_token": next, "expires_in": 3600, "token_type": "Bearer"})
		return
	}
	auth := r.Header.Get("Authorization")
	if strings.HasPrefix(r.URL.Path, "/vending/v1/") {
		f.vending(w, r, auth)
		return
	}
	switch {
	case r.URL.Path == "/subscriptions" && (auth == "Bearer reader-token" || auth == "Bearer owner-token"):
		_, _ = io.WriteString(w, `{"value":[{"id":"/subscriptions/s1","subscriptionId":"s1","displayName":"One","state":"Enabled"}]}`)
	case r.URL.Path == "/subscriptions/s1/providers/Microsoft.AlertsManagement/alerts" && auth == "Bearer owner-token":
		_, _ = io.WriteString(w, `{"value":[
		 {"id":"/subscriptions/s1/providers/Microsoft.AlertsManagement/alerts/a1","name":"disk-full","properties":{"essentials":{"severity":"Sev1","alertState":"New","monitorCondition":"Fired","targetResourceName":"vm1","startDateTime":"2026-12-06T10:00:00Z"}}},
		 {"id":"/subscriptions/s1/providers/Microsoft.AlertsManagement/alerts/a2","name":"closed-one","properties":{"essentials":{"severity":"Sev2","alertState":"Closed","monitorCondition":"Fired","targetResourceName":"vm2","startDateTime":"2026-12-06T11:00:00Z"}}},
		 {"id":"/subscriptions/s1/providers/Microsoft.AlertsManagement/alerts/a3","name":"resolved-one","properties":{"essentials":{"severity":"Sev3","alertState":"New","monitorCondition":"Resolved","targetResourceName":"vm3","startDateTime":"2026-12-06T09:00:00Z"}}}]}`)
	case r.URL.Path == "/subscriptions/s1/providers/Microsoft.PolicyInsights/policyStates/latest/summarize" && auth == "Bearer owner-token":
		_, _ = io.WriteString(w, `{"value":[{"results":{"nonCompliantResources":0,"resourceDetails":[]},"policyAssignments":[]}]}`)
	case r.URL.Path == "/subscriptions/s1/providers/Microsoft.OperationalInsights/workspaces" && (auth == "Bearer reader-token" || auth == "Bearer owner-token"):
		_, _ = io.WriteString(w, `{"value":[{"id":"`+workspaceID+`","name":"ws1"}]}`)
	case r.URL.Path == "/v1"+workspaceID+"/query" && auth == "Bearer owner-token-logs":
		var body struct{ Query, Timespan string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.queries = append(f.queries, body.Query+" | "+body.Timespan)
		f.prefer = append(f.prefer, r.Header.Get("Prefer"))
		switch {
		case body.Query == expiringCountQuery:
			_, _ = io.WriteString(w, `{"tables":[{"name":"PrimaryResult","columns":[{"name":"Expired","type":"long"},{"name":"ExpiringIn30Days","type":"long"}],
			"rows":[[2,5]]}]}`)
		case strings.Contains(body.Query, "| fork"):
			_, _ = io.WriteString(w, `{"tables":[{"name":"PrimaryResult","columns":[{"name":"Count","type":"long"}],"rows":[[7]]},
			{"name":"ByLevel","columns":[{"name":"Level","type":"string"},{"name":"n","type":"long"}],"rows":[["Error",3],["Warning",4]]}]}`)
		case strings.HasPrefix(body.Query, "PolicyComplianceStates_CL"):
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":{"code":"BadArgumentError","message":"unknown table or name 'PolicyComplianceStates_CL'"}}`)
		case strings.HasPrefix(body.Query, "StewardCredentials_CL") && strings.HasSuffix(body.Query, "render columnchart"):
			_, _ = io.WriteString(w, `{"tables":[{"name":"PrimaryResult","columns":[{"name":"Age","type":"string"},{"name":"Credentials","type":"long"}],
			"rows":[["under 30 days",4],["a year or more",1]]}],"render":{"visualization":"columnchart"}}`)
		case strings.HasPrefix(body.Query, "StewardCredentials_CL"):
			_, _ = io.WriteString(w, `{"tables":[{"name":"PrimaryResult","columns":[{"name":"Kind","type":"string"},{"name":"Owner","type":"string"},{"name":"Name","type":"string"},
			{"name":"Credential","type":"string"},{"name":"Expires","type":"datetime"},{"name":"Flags","type":"string"}],
			"rows":[["AppPassword","app1","ci","abcd****wxyz","2026-12-20T00:00:00Z","ExpiresWithin30Days"]]}]}`)
		default:
			_, _ = io.WriteString(w, `{"tables":[{"name":"PrimaryResult","columns":[{"name":"Level","type":"string"},{"name":"n","type":"long"}],
			"rows":[["Error",3],["<script>",1]]}],"render":{"visualization":"piechart"}}`)
		}
	case r.URL.Path == "/v1"+workspaceID+"/query":
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"error":{"code":"InsufficientAccessError","message":"The provided credentials have insufficient access to perform the requested operation"}}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":"NotFound","message":"no"}}`)
	}
}

func kqlConsole(t *testing.T) (*Console, *fakeCloud) {
	t.Helper()
	f := &fakeCloud{refresh: map[string]string{}}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	opts := azcore.ClientOptions{Transport: srv.Client(), Retry: policy.RetryOptions{MaxRetries: -1},
		Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: srv.URL, Audience: "https://management.azure.com"},
			azlogs.ServiceName:    {Endpoint: srv.URL + "/v1", Audience: "https://api.loganalytics.io"}}}}
	c, err := New(Options{Issuer: srv.URL + "/t/v2.0", ClientID: "c", ClientSecret: "s", BaseURL: "https://steward.test/console/", Vending: srv.URL + "/vending/v1",
		HTTPClient: srv.Client(), Sessions: memSessions{}, ARM: &arm.ClientOptions{ClientOptions: opts}, Logs: &azlogs.ClientOptions{ClientOptions: opts}})
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

// signedInWithRefresh is signedIn with a refresh token the fake redeems.
func signedInWithRefresh(t *testing.T, c *Console, f *fakeCloud, token string) *http.Cookie {
	t.Helper()
	ck := signedIn(t, c, token, time.Minute)
	var s session
	key := hashKey("session", ck.Value)
	if _, err := c.get(t.Context(), key, &s); err != nil {
		t.Fatal(err)
	}
	s.RefreshToken = "rt-" + token
	f.refresh[s.RefreshToken] = token
	if err := c.put(t.Context(), key, s); err != nil {
		t.Fatal(err)
	}
	return ck
}

func TestKQLPageRunsQueryAndDrawsItsChart(t *testing.T) {
	c, f := kqlConsole(t)
	ck := signedInWithRefresh(t, c, f, "owner-token")
	rec := do(t, c, ck, http.MethodGet, "/console/kql", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `<option value="`+workspaceID+`"`) {
		t.Fatalf("form %d:\n%s", rec.Code, rec.Body.String())
	}
	run := func() *httptest.ResponseRecorder {
		return do(t, c, ck, http.MethodPost, "/console/kql", url.Values{"csrf": {"csrf-owner-token"}, "workspace": {workspaceID},
			"timespan": {"P1D"}, "query": {"T | summarize n=count() by Level | render piechart"}})
	}
	rec = run()
	page := rec.Body.String()
	for _, want := range []string{`<svg id="chart" role="img" aria-label="piechart of the result"`, "Error: 3 (75.0%)",
		"<td>&lt;script&gt;</td>", "2 of 2 rows", `<th scope="col">Level</th>`} {
		if !strings.Contains(page, want) {
			t.Errorf("result lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("a value is not escaped")
	}
	// The second query reuses the Log Analytics token; the rotated refresh
	// token was kept.
	if rec := run(); rec.Code != http.StatusOK {
		t.Fatalf("second run: %d", rec.Code)
	}
	if len(f.queries) != 2 || f.queries[0] != "T | summarize n=count() by Level | render piechart | P1D" ||
		!strings.Contains(f.prefer[0], "include-render=true") {
		t.Errorf("queries = %q, Prefer = %q", f.queries, f.prefer)
	}
	if len(f.refresh) != 1 || f.refresh["rt-owner-token"] != "" {
		t.Errorf("refresh tokens = %v", f.refresh)
	}
}

// TestKQLPageShowsEveryTable: a query that returns several tables shows
// each under its name.
func TestKQLPageShowsEveryTable(t *testing.T) {
	c, f := kqlConsole(t)
	ck := signedInWithRefresh(t, c, f, "owner-token")
	rec := do(t, c, ck, http.MethodPost, "/console/kql", url.Values{"csrf": {"csrf-owner-token"}, "workspace": {workspaceID},
		"timespan": {"P1D"}, "query": {"T | fork (count) ByLevel=(summarize n=count() by Level)"}})
	page := rec.Body.String()
	last := 0
	for _, want := range []string{"<h2>PrimaryResult</h2>", "1 of 1 rows", "<td>7</td>", "<h2>ByLevel</h2>", "2 of 2 rows", "<td>Warning</td>"} {
		i := strings.Index(page[last:], want)
		if i < 0 {
			t.Fatalf("result lacks %q after offset %d:\n%s", want, last, page)
		}
		last += i
	}
}

func TestKQLPageReaderWithoutQueryRightIsRefused(t *testing.T) {
	c, f := kqlConsole(t)
	ck := signedInWithRefresh(t, c, f, "reader-token")
	rec := do(t, c, ck, http.MethodPost, "/console/kql", url.Values{"csrf": {"csrf-reader-token"}, "workspace": {workspaceID},
		"timespan": {"P1D"}, "query": {"T | take 1"}})
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "InsufficientAccessError") {
		t.Errorf("a Reader querying: %d\n%s", rec.Code, rec.Body.String())
	}
	// A workspace not listed, a bad time range and an empty query are 400s.
	for _, form := range []url.Values{
		{"workspace": {"/subscriptions/other/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/x"}, "timespan": {"P1D"}, "query": {"T"}},
		{"workspace": {workspaceID}, "timespan": {"P99Y"}, "query": {"T"}},
		{"workspace": {workspaceID}, "timespan": {"P1D"}, "query": {" "}},
	} {
		form.Set("csrf", "csrf-reader-token")
		if rec := do(t, c, ck, http.MethodPost, "/console/kql", form); rec.Code != http.StatusBadRequest {
			t.Errorf("%v: %d", form, rec.Code)
		}
	}
	if len(f.queries) != 0 {
		t.Errorf("queries run: %v", f.queries)
	}
}
