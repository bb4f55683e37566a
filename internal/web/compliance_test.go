package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// fakeARM answers the two calls of the overview as the management API does,
// and only for the user's token.
func fakeARM(t *testing.T, summary string) *httptest.Server { return fakeARMFor(t, summary) }

func fakeARMFor(t testing.TB, summary string) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer user-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/subscriptions":
			_, _ = io.WriteString(w, `{"value":[{"id":"/subscriptions/s1","subscriptionId":"s1","displayName":"One","state":"Enabled"}]}`)
		case r.Method == http.MethodPost && r.URL.Path == "/subscriptions/s1/providers/Microsoft.PolicyInsights/policyStates/latest/summarize":
			_, _ = io.WriteString(w, summary)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"code":"NotFound","message":"no"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func overviewHTML(t *testing.T, summary string) string {
	t.Helper()
	srv := fakeARM(t, summary)
	c, err := New(Options{Issuer: "https://login.test/t/v2.0", ClientID: "c", BaseURL: "https://steward.test/console/",
		Sessions: memSessions{},
		ARM: &arm.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client(), Retry: policy.RetryOptions{MaxRetries: -1},
			Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: srv.URL, Audience: "https://management.azure.com"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	c.overview(rec, httptest.NewRequest(http.MethodGet, "/console/", nil),
		&session{Name: "Ann", AccessToken: "user-token", Expires: time.Now().Add(time.Hour), CSRF: "x"})
	return rec.Body.String()
}

// memSessions is an in-memory Sessions for tests.
type memSessions map[string][]byte

func (m memSessions) Get(_ context.Context, k string) ([]byte, error) {
	if v, ok := m[k]; ok {
		return v, nil
	}
	return nil, ErrNotFound
}
func (m memSessions) Put(_ context.Context, k string, v []byte) error { m[k] = v; return nil }
func (m memSessions) Delete(_ context.Context, k string) error        { delete(m, k); return nil }

func TestOverviewCompliance(t *testing.T) {
	const summary = `{"value":[{"results":{"nonCompliantResources":3,"nonCompliantPolicies":2,
		"resourceDetails":[{"complianceState":"compliant","count":1},{"complianceState":"noncompliant","count":3}]},
		"policyAssignments":[
		 {"policyAssignmentId":"/subscriptions/s1/providers/Microsoft.Authorization/policyAssignments/tags","results":{"nonCompliantResources":1}},
		 {"policyAssignmentId":"/subscriptions/s1/providers/Microsoft.Authorization/policyAssignments/audit-https","results":{"nonCompliantResources":2}},
		 {"policyAssignmentId":"/subscriptions/s1/providers/Microsoft.Authorization/policyAssignments/clean","results":{"nonCompliantResources":0}}]}]}`
	page := overviewHTML(t, summary)
	for _, want := range []string{
		"One", "25% compliant", "1 compliant, 3 non-compliant",
		// Bars sorted by count, the longest the chart's full width.
		`<rect x="0" y="0" width="400" height="18"`, `audit-https: 2`,
		`<rect x="0" y="24" width="200" height="18"`, `tags: 1`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("overview lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "clean:") {
		t.Error("an assignment without non-compliant resources has a bar")
	}
}

func TestOverviewWithoutEvaluations(t *testing.T) {
	page := overviewHTML(t, `{"value":[{"results":{"nonCompliantResources":0,"resourceDetails":[]},"policyAssignments":[]}]}`)
	if !strings.Contains(page, "No resource has been evaluated yet.") || strings.Contains(page, "% compliant") {
		t.Errorf("overview without evaluations:\n%s", page)
	}
}

// TestOverviewShowsOpenAlertsAndExpiringCredentials: the overview counts
// the alerts that are fired and not closed (newest first) and, from the
// chosen workspace's credential report, the expired and expiring
// credentials, each with a link to its page.
func TestOverviewShowsOpenAlertsAndExpiringCredentials(t *testing.T) {
	c, f := kqlConsole(t)
	ck := signedInWithRefresh(t, c, f, "owner-token")
	rec := do(t, c, ck, http.MethodGet, "/console/", nil)
	page := rec.Body.String()
	for _, want := range []string{"<h2>Open alerts</h2>", "<strong class=\"warn\">1 open</strong>", "<td>disk-full</td><td>Sev1</td><td>New</td><td>vm1</td>",
		`<a href="/console/alerts">All alerts</a>`, "<h3>Credentials that expire</h3>", "<th scope=\"col\">Expired</th>", "<td>2</td><td>5</td>",
		"No policy state was collected to this workspace"} {
		if !strings.Contains(page, want) {
			t.Errorf("overview lacks %q:\n%s", want, page)
		}
	}
	for _, not := range []string{"closed-one", "resolved-one"} {
		if strings.Contains(page, not) {
			t.Errorf("the overview lists %s as open", not)
		}
	}
	ran := strings.Join(f.queries, "\n")
	if !strings.Contains(ran, expiringCountQuery+" | "+credentialsTimespan) {
		t.Errorf("queries: %s", ran)
	}
}
