package graph

import (
	"net/http"
	"testing"

	"github.com/steward-gov/steward/internal/identity"
)

func TestB2CUserFlows(t *testing.T) {
	e := newEnv(t)
	const base = "/beta/identity/b2cUserFlows"
	f := e.must(e.admin, http.StatusCreated, "POST", base, map[string]any{"id": "signupsignin1", "userFlowType": "signUpOrSignIn", "userFlowTypeVersion": 3})
	if f["id"] != "B2C_1_signupsignin1" || f["multifactorAuthentication"] != "off" || f["userFlowTypeVersion"] != 3.0 {
		t.Fatalf("created: %v", f)
	}
	e.must(e.admin, http.StatusCreated, "POST", base, map[string]any{"id": "B2C_1_mfa", "userFlowType": "signUpOrSignIn",
		"userFlowTypeVersion": 3, "multifactorAuthentication": "always"})
	for _, bad := range []map[string]any{
		{"userFlowType": "signIn"},
		{"id": "x", "userFlowType": "resourceOwner"},
		{"id": "x", "userFlowType": "signIn", "multifactorAuthentication": "maybe"},
		{"id": "bad name", "userFlowType": "signIn"},
	} {
		if m := e.must(e.admin, http.StatusBadRequest, "POST", base, bad); errCode(m) != "Request_BadRequest" {
			t.Errorf("%v: %v", bad, m)
		}
	}
	e.must(e.admin, http.StatusConflict, "POST", base, map[string]any{"id": "B2C_1_signupsignin1", "userFlowType": "signIn"})
	if got := values(e.must(e.admin, http.StatusOK, "GET", base, nil)); len(got) != 2 {
		t.Fatalf("list: %v", got)
	}
	if g := e.must(e.admin, http.StatusOK, "GET", base+"/b2c_1_MFA", nil); g["multifactorAuthentication"] != "always" {
		t.Fatalf("get: %v", g)
	}
	// Readers read; only a Global Administrator writes.
	reader := e.newPrincipal(e.tenant.ID, "reader", identity.RoleDirectoryReaders)
	apps := e.newPrincipal(e.tenant.ID, "apps", identity.RoleApplicationAdministrator)
	e.must(reader, http.StatusOK, "GET", base, nil)
	e.must(apps, http.StatusForbidden, "POST", base, map[string]any{"id": "x", "userFlowType": "signIn"})
	e.must(reader, http.StatusForbidden, "DELETE", base+"/B2C_1_mfa", nil)
	e.must(e.admin, http.StatusNoContent, "DELETE", base+"/B2C_1_mfa", nil)
	e.must(e.admin, http.StatusNotFound, "GET", base+"/B2C_1_mfa", nil)
	// Other beta paths are not served.
	e.must(e.admin, http.StatusBadRequest, "GET", "/beta/users", nil)
}
