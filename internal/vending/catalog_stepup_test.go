package vending

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestCatalogChangesByPeopleNeedAFreshSecondFactor: a member of the
// platform team's group changes the catalog only with a multifactor
// sign-in of the last 10 minutes; otherwise the API answers Entra's claims
// challenge. Reading needs none, and nobody outside the group gets that far.
func TestCatalogChangesByPeopleNeedAFreshSecondFactor(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	call := func(method string, who Caller) *httptest.ResponseRecorder {
		t.Helper()
		in := &Internal{AdminGroups: []string{devs}, AuthorizationURI: "https://login.test/{tenant}/oauth2/v2.0/authorize",
			Caller: func(*http.Request) (Caller, bool) { return who, true }, Now: func() time.Time { return now }}
		rec := httptest.NewRecorder()
		in.ServeHTTP(rec, httptest.NewRequest(method, CatalogPath+"/authorizations", strings.NewReader(`{}`)))
		return rec
	}
	member := Caller{ObjectID: alice, TenantID: guid, Groups: []string{devs}}
	for name, who := range map[string]Caller{
		"no second factor":  member,
		"an old one":        {ObjectID: alice, TenantID: guid, Groups: []string{devs}, AMR: []string{"pwd", "mfa"}, AuthTime: now.Add(-11 * time.Minute)},
		"a password only":   {ObjectID: alice, TenantID: guid, Groups: []string{devs}, AMR: []string{"pwd"}, AuthTime: now.Add(-time.Minute)},
		"auth_time missing": {ObjectID: alice, TenantID: guid, Groups: []string{devs}, AMR: []string{"pwd", "mfa"}},
	} {
		rec := call(http.MethodPut, who)
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "InsufficientClaims") ||
			!strings.Contains(rec.Header().Get("WWW-Authenticate"), `authorization_uri="https://login.test/`+guid+`/oauth2/v2.0/authorize"`) {
			t.Errorf("%s: %d %s %q", name, rec.Code, rec.Body, rec.Header().Get("WWW-Authenticate"))
		}
	}
	// Past the step-up (a fresh second factor, the administrator's
	// application, or a read) the API goes on to the catalog, which this
	// test does not have.
	fresh := Caller{ObjectID: alice, TenantID: guid, Groups: []string{devs}, AMR: []string{"pwd", "mfa"}, AuthTime: now.Add(-2 * time.Minute)}
	for name, rec := range map[string]*httptest.ResponseRecorder{
		"fresh":   call(http.MethodPut, fresh),
		"a read":  call(http.MethodGet, member),
		"the app": call(http.MethodPut, Caller{ObjectID: bob, AppID: guid, App: true, Groups: []string{devs}}),
	} {
		if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	if rec := call(http.MethodPut, Caller{ObjectID: bob, TenantID: guid, AMR: []string{"mfa"}, AuthTime: now}); rec.Code != http.StatusForbidden {
		t.Errorf("outside the platform team: %d %s", rec.Code, rec.Body)
	}
}
