package graph

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/identity"
)

// TestAppCredentialSignInActivities signs two apps in with their secrets
// and reads their last sign-ins from the beta report: one entry per used
// credential in Entra's shape, $filter on appId and keyId, paging, get by
// id, and a 403 for callers without a reports role.
func TestAppCredentialSignInActivities(t *testing.T) {
	e := newEnv(t)
	const base = "/beta/reports/appCredentialSignInActivities"
	ctx := context.Background()
	used := e.newPrincipal(e.tenant.ID, "used")
	other := e.newPrincipal(e.tenant.ID, "other")
	// A second secret of "used" that never signs in: no entry.
	if _, _, err := e.svc.AddClientSecret(ctx, e.tenant.ID, used.appID, "idle", time.Hour); err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC().Add(-time.Second)
	e.token(used)
	e.token(other)
	app, err := e.svc.Directory().Application(ctx, e.tenant.ID, used.appID)
	if err != nil {
		t.Fatal(err)
	}
	if len(app.PasswordCredentials) != 2 {
		t.Fatalf("used has %d secrets", len(app.PasswordCredentials))
	}
	key := app.PasswordCredentials[0]
	if key.DisplayName != "test" {
		key = app.PasswordCredentials[1]
	}

	got := values(e.must(e.admin, http.StatusOK, "GET", base+"?$filter="+url.QueryEscape("appId eq '"+used.appID+"'"), nil))
	if len(got) != 1 {
		t.Fatalf("entries of used: %v", got)
	}
	a := got[0]
	sign, _ := a["signInActivity"].(map[string]any)
	last, err := time.Parse(time.RFC3339Nano, sign["lastSignInDateTime"].(string))
	if err != nil || last.Before(before) {
		t.Fatalf("lastSignInDateTime %v (%v), want after %v", sign["lastSignInDateTime"], err, before)
	}
	if a["keyId"] != key.KeyID || a["keyType"] != "clientSecret" || a["appObjectId"] != app.ObjectID ||
		a["servicePrincipalObjectId"] != used.objectID || a["credentialOrigin"] != "application" ||
		a["id"] != credActivityID(key.KeyID) || a["expirationDateTime"] != key.EndDateTime.UTC().Format("2006-01-02T15:04:05Z") {
		t.Fatalf("entry: %v", a)
	}
	// The admin signed in too: three entries, paged by 3 (PageSize) then 1 with $top.
	all := e.must(e.admin, http.StatusOK, "GET", base+"?$top=2", nil)
	if len(values(all)) != 2 || all["@odata.nextLink"] == nil {
		t.Fatalf("first page: %v", all)
	}
	next, _ := url.Parse(all["@odata.nextLink"].(string))
	if rest := values(e.must(e.admin, http.StatusOK, "GET", next.RequestURI(), nil)); len(rest) != 1 {
		t.Fatalf("second page: %v", rest)
	}
	if g := e.must(e.admin, http.StatusOK, "GET", base+"/"+credActivityID(key.KeyID), nil); g["appId"] != used.appID {
		t.Fatalf("get: %v", g)
	}
	e.must(e.admin, http.StatusNotFound, "GET", base+"/"+credActivityID(e.svc.NewID()), nil)
	if got := values(e.must(e.admin, http.StatusOK, "GET", base+"?$filter="+url.QueryEscape("keyId eq '"+key.KeyID+"'"), nil)); len(got) != 1 {
		t.Fatalf("by keyId: %v", got)
	}
	if m := e.must(e.admin, http.StatusBadRequest, "GET", base+"?$filter="+url.QueryEscape("resourceId eq 'x'"), nil); errCode(m) != "Request_UnsupportedQuery" {
		t.Fatalf("filter on resourceId: %v", m)
	}
	e.must(e.admin, http.StatusMethodNotAllowed, "POST", base, map[string]any{})

	// Reports Reader and Global Reader read it; Directory Readers and
	// Application Administrators do not, nor an app without a role.
	e.must(e.newPrincipal(e.tenant.ID, "reports", identity.RoleReportsReader), http.StatusOK, "GET", base, nil)
	e.must(e.newPrincipal(e.tenant.ID, "global", identity.RoleGlobalReader), http.StatusOK, "GET", base, nil)
	for _, p := range []principal{other, e.newPrincipal(e.tenant.ID, "dir", identity.RoleDirectoryReaders),
		e.newPrincipal(e.tenant.ID, "apps", identity.RoleApplicationAdministrator)} {
		if m := e.must(p, http.StatusForbidden, "GET", base, nil); errCode(m) != "Authorization_RequestDenied" {
			t.Fatalf("refusal: %v", m)
		}
	}
	// Another tenant's Global Administrator sees none of these.
	t2, err := e.svc.CreateTenant(ctx, "Fabrikam", "fabrikam.test")
	if err != nil {
		t.Fatal(err)
	}
	if got := values(e.must(e.newPrincipal(t2.ID, "admin2", identity.RoleGlobalAdministrator), http.StatusOK, "GET", base, nil)); len(got) != 1 {
		t.Fatalf("other tenant sees %v, want only its own admin's secret", got)
	}
}
