package web

import (
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
)

const alertID = "/subscriptions/s1/providers/Microsoft.AlertsManagement/alerts/0a1b2c3d-0000-4000-8000-000000000001"

// fakeAlertsARM serves subscriptions and alerts; changestate succeeds only
// for the token "owner-token" (a Reader's token is refused with 403, as the
// management API's RBAC does). It records the changes made.
type fakeAlertsARM struct {
	mu      sync.Mutex
	changes []string
}

func (f *fakeAlertsARM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	if auth != "Bearer reader-token" && auth != "Bearer owner-token" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/subscriptions":
		_, _ = io.WriteString(w, `{"value":[{"id":"/subscriptions/s1","subscriptionId":"s1","displayName":"One","state":"Enabled"}]}`)
	case r.Method == http.MethodGet && r.URL.Path == "/subscriptions/s1/providers/Microsoft.AlertsManagement/alerts":
		_, _ = io.WriteString(w, `{"value":[
		 {"id":"/subscriptions/s1/providers/Microsoft.AlertsManagement/alerts/old","name":"disk-full","properties":{"essentials":{"severity":"Sev3","alertState":"Closed","monitorCondition":"Resolved","targetResourceName":"vm1","startDateTime":"2026-12-01T10:00:00Z","monitorConditionResolvedDateTime":"2026-12-01T11:00:00Z"}}},
		 {"id":"`+alertID+`","name":"cpu-high","properties":{"essentials":{"severity":"Sev1","alertState":"New","monitorCondition":"Fired","targetResourceName":"ws1","startDateTime":"2026-12-06T10:00:00Z"}}}]}`)
	case r.Method == http.MethodPost && r.URL.Path == alertID+"/changestate":
		if auth != "Bearer owner-token" {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"error":{"code":"AuthorizationFailed","message":"no"}}`)
			return
		}
		f.mu.Lock()
		f.changes = append(f.changes, r.URL.Query().Get("newState"))
		f.mu.Unlock()
		_, _ = io.WriteString(w, `{}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":"NotFound","message":"no"}}`)
	}
}

// testConsole is a console reading the given fake management API, with
// one signed-in session per token, reached by its cookie.
func testConsole(t *testing.T, h http.Handler) (*Console, memSessions) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	sessions := memSessions{}
	c, err := New(Options{Issuer: "https://login.test/t/v2.0", ClientID: "c", BaseURL: "https://steward.test/console/",
		Sessions: sessions,
		ARM: &arm.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client(), Retry: policy.RetryOptions{MaxRetries: -1},
			Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: srv.URL, Audience: "https://management.azure.com"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return c, sessions
}

// signedIn stores a session for token, its MFA authTime ago, and returns
// the cookie that selects it.
func signedIn(t *testing.T, c *Console, token string, mfaAgo time.Duration) *http.Cookie {
	t.Helper()
	id := randomString()
	s := session{ObjectID: "u1", Name: "Ann", AccessToken: token, Expires: time.Now().Add(time.Hour), CSRF: "csrf-" + token,
		AMR: []string{"pwd", "mfa"}, AuthTime: time.Now().Add(-mfaAgo)}
	if err := c.put(t.Context(), hashKey("session", id), s); err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: sessionCookie, Value: id}
}

func do(t *testing.T, c *Console, ck *http.Cookie, method, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(ck)
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, req)
	return rec
}

func TestAlertsPageReaderSeesCannotChange(t *testing.T) {
	fake := &fakeAlertsARM{}
	c, _ := testConsole(t, fake)
	ck := signedIn(t, c, "reader-token", time.Minute)
	rec := do(t, c, ck, http.MethodGet, "/console/alerts", nil)
	page := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(page, "cpu-high") || !strings.Contains(page, "disk-full") {
		t.Fatalf("alerts page %d:\n%s", rec.Code, page)
	}
	if strings.Index(page, "cpu-high") > strings.Index(page, "disk-full") {
		t.Error("a resolved alert is listed before a fired one")
	}
	if !strings.Contains(page, `aria-label="Acknowledge cpu-high"`) || strings.Contains(page, `aria-label="Close disk-full"`) {
		t.Error("the forms do not follow the alerts' states")
	}
	rec = do(t, c, ck, http.MethodPost, "/console/alerts/state", url.Values{"csrf": {"csrf-reader-token"}, "alert": {alertID}, "state": {"Acknowledged"}})
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "AuthorizationFailed") {
		t.Errorf("a Reader acknowledging: %d\n%s", rec.Code, rec.Body.String())
	}
	if len(fake.changes) != 0 {
		t.Errorf("changes made: %v", fake.changes)
	}
}

func TestAlertsAcknowledgeAndCloseWithStepUp(t *testing.T) {
	fake := &fakeAlertsARM{}
	c, _ := testConsole(t, fake)
	stale := signedIn(t, c, "owner-token", time.Hour)
	form := func(state string) url.Values {
		return url.Values{"csrf": {"csrf-owner-token"}, "alert": {alertID}, "state": {state}}
	}
	// Acknowledging needs no step-up.
	if rec := do(t, c, stale, http.MethodPost, "/console/alerts/state", form("Acknowledged")); rec.Code != http.StatusSeeOther ||
		rec.Header().Get("Location") != "/console/alerts?done=Acknowledged" {
		t.Fatalf("acknowledge: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	// Closing with a second factor an hour old goes through the step-up.
	rec := do(t, c, stale, http.MethodPost, "/console/alerts/state", form("Closed"))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/signin?stepup=1&return=%2Fconsole%2Falerts" {
		t.Fatalf("close without a fresh MFA: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	fresh := signedIn(t, c, "owner-token", 2*time.Minute)
	if rec := do(t, c, fresh, http.MethodPost, "/console/alerts/state", form("Closed")); rec.Code != http.StatusSeeOther {
		t.Fatalf("close with a fresh MFA: %d\n%s", rec.Code, rec.Body.String())
	}
	if got := strings.Join(fake.changes, ","); got != "Acknowledged,Closed" {
		t.Errorf("changes = %s", got)
	}
	// Bad input is a 400, a forged form a 403.
	if rec := do(t, c, fresh, http.MethodPost, "/console/alerts/state", url.Values{"csrf": {"csrf-owner-token"}, "alert": {"/elsewhere"}, "state": {"Closed"}}); rec.Code != http.StatusBadRequest {
		t.Errorf("foreign ID: %d", rec.Code)
	}
	if rec := do(t, c, fresh, http.MethodPost, "/console/alerts/state", url.Values{"alert": {alertID}, "state": {"Closed"}}); rec.Code != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", rec.Code)
	}
}
