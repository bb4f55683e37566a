package graph

import (
	"net/http"
	"strings"
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

func TestB2CUserFlowAttributeAssignments(t *testing.T) {
	e := newEnv(t)
	const base = "/beta/identity/b2cUserFlows"
	e.must(e.admin, http.StatusCreated, "POST", base, map[string]any{"id": "susi", "userFlowType": "signUpOrSignIn"})
	e.must(e.admin, http.StatusCreated, "POST", base, map[string]any{"id": "reset", "userFlowType": "passwordReset"})
	path := base + "/B2C_1_susi/userAttributeAssignments"
	got := values(e.must(e.admin, http.StatusOK, "GET", path, nil))
	if len(got) != 3 || got[0]["id"] != "displayName" || got[0]["isOptional"] != false || got[2]["id"] != "surname" || got[2]["isOptional"] != true ||
		got[0]["userInputType"] != "textBox" {
		t.Fatalf("a new flow's assignments: %v", got)
	}
	code, m := e.do(e.admin, "POST", path, map[string]any{"isOptional": false, "requiresVerification": false, "userInputType": "TextBox",
		"displayName": "Home town", "userAttributeValues": []any{}, "userAttribute": map[string]any{"id": "city"}})
	if code != http.StatusCreated || m["id"] != "city" || m["displayName"] != "Home town" || m["isOptional"] != false {
		t.Fatalf("assigning city: %d %v", code, m)
	}
	e.must(e.admin, http.StatusConflict, "POST", path, map[string]any{"userAttribute": map[string]any{"id": "city"}})
	for _, bad := range []map[string]any{
		{"userAttribute": map[string]any{"id": "extension_0123_shoeSize"}},
		{"userAttribute": map[string]any{"id": "country"}, "userInputType": "dropdownSingleSelect"},
		{"userAttribute": map[string]any{"id": "postalCode"}, "requiresVerification": true},
		{"displayName": "no attribute"},
	} {
		if m := e.must(e.admin, http.StatusBadRequest, "POST", path, bad); errCode(m) != "Request_BadRequest" {
			t.Errorf("%v: %v", bad, m)
		}
	}
	e.must(e.admin, http.StatusBadRequest, "POST", base+"/B2C_1_reset/userAttributeAssignments", map[string]any{"userAttribute": map[string]any{"id": "city"}})
	// A profile edit flow takes assignments too (its page shows them).
	e.must(e.admin, http.StatusCreated, "POST", base, map[string]any{"id": "edit", "userFlowType": "profileUpdate"})
	e.must(e.admin, http.StatusCreated, "POST", base+"/B2C_1_edit/userAttributeAssignments", map[string]any{"userAttribute": map[string]any{"id": "jobTitle"}})
	if got := values(e.must(e.admin, http.StatusOK, "GET", base+"/B2C_1_edit/userAttributeAssignments", nil)); len(got) != 4 || got[3]["id"] != "jobTitle" {
		t.Fatalf("the profile edit flow's assignments: %v", got)
	}
	e.must(e.admin, http.StatusNotFound, "GET", base+"/B2C_1_none/userAttributeAssignments", nil)
	if g := e.must(e.admin, http.StatusOK, "GET", path+"/City", nil); g["displayName"] != "Home town" {
		t.Fatalf("get: %v", g)
	}
	reader := e.newPrincipal(e.tenant.ID, "reader", identity.RoleDirectoryReaders)
	e.must(reader, http.StatusOK, "GET", path, nil)
	e.must(reader, http.StatusForbidden, "DELETE", path+"/city", nil)
	e.must(e.admin, http.StatusNoContent, "DELETE", path+"/givenName", nil)
	e.must(e.admin, http.StatusNotFound, "DELETE", path+"/givenName", nil)
	got = values(e.must(e.admin, http.StatusOK, "GET", path, nil))
	var ids []string
	for _, a := range got {
		ids = append(ids, a["id"].(string))
	}
	if strings.Join(ids, ",") != "displayName,surname,city" {
		t.Fatalf("after the changes: %v", ids)
	}
	// A flow body cannot carry assignments.
	e.must(e.admin, http.StatusBadRequest, "POST", base, map[string]any{"id": "x", "userFlowType": "signUp",
		"userAttributeAssignments": []any{map[string]any{"id": "city"}}})
}
