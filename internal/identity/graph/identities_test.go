package graph

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/steward-gov/steward/internal/identity"
)

// Users created through Graph with local-account identities are found by
// their sign-in names (what B2C user flows sign in with); a name is one
// user's only, and a PATCH that drops it frees it.
func TestUserIdentitiesAreSignInNames(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	user := func(upn string, ids ...map[string]any) map[string]any {
		return map[string]any{"accountEnabled": true, "displayName": "Carol", "mailNickname": "carol", "userPrincipalName": upn,
			"passwordProfile": map[string]any{"password": "Corr3ct-Horse"}, "identities": ids}
	}
	email := func(v string) map[string]any {
		return map[string]any{"signInType": "emailAddress", "issuer": "contoso.test", "issuerAssignedId": v}
	}
	u := e.must(e.admin, http.StatusCreated, "POST", "/v1.0/users", user("carol@contoso.test", email("Carol@Example.test"),
		map[string]any{"signInType": "federated", "issuer": "facebook.com", "issuerAssignedId": "5678"}))
	sel := e.must(e.admin, http.StatusOK, "GET", "/v1.0/users/"+u["id"].(string)+"?$select=identities", nil)
	if ids, _ := sel["identities"].([]any); len(ids) != 2 {
		t.Fatalf("identities: %v", sel)
	}
	got, err := e.svc.Directory().UserBySignInName(ctx, e.tenant.ID, "carol@example.TEST")
	if err != nil || got.ID != u["id"] {
		t.Fatalf("by sign-in name: %+v %v", got, err)
	}
	// Another user cannot take the address.
	m := e.must(e.admin, http.StatusBadRequest, "POST", "/v1.0/users", user("dave@contoso.test", email("carol@example.test")))
	if errCode(m) != "Request_BadRequest" {
		t.Fatalf("a taken address: %v", m)
	}
	if _, err := e.svc.Directory().UserByUPN(ctx, e.tenant.ID, "dave@contoso.test"); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("the refused user was written: %v", err)
	}
	// Nor another user's user principal name.
	e.must(e.admin, http.StatusCreated, "POST", "/v1.0/users", user("frank@contoso.test"))
	e.must(e.admin, http.StatusBadRequest, "POST", "/v1.0/users", user("gina@contoso.test", email("FRANK@contoso.test")))
	for _, bad := range []map[string]any{
		email("not-an-address"),
		{"signInType": "emailAddress", "issuer": "elsewhere.test", "issuerAssignedId": "x@example.test"},
		{"signInType": "userName", "issuer": "contoso.test", "issuerAssignedId": "-dash"},
		{"signInType": "userPrincipalName", "issuer": "contoso.test", "issuerAssignedId": "other@contoso.test"},
		{"signInType": "phoneNumber", "issuer": "contoso.test", "issuerAssignedId": "+15550100"},
		{"signInType": "emailAddress", "issuer": "contoso.test"},
	} {
		if m := e.must(e.admin, http.StatusBadRequest, "POST", "/v1.0/users", user("erin@contoso.test", bad)); errCode(m) != "Request_BadRequest" {
			t.Errorf("%v: %v", bad, m)
		}
	}
	// A PATCH replaces the identities: the old address is free, the new one taken.
	e.must(e.admin, http.StatusNoContent, "PATCH", "/v1.0/users/"+u["id"].(string), map[string]any{"identities": []any{
		map[string]any{"signInType": "userName", "issuer": "contoso.test", "issuerAssignedId": "carol_1"}}})
	if _, err := e.svc.Directory().UserBySignInName(ctx, e.tenant.ID, "carol@example.test"); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("the dropped address still signs in: %v", err)
	}
	if got, err := e.svc.Directory().UserBySignInName(ctx, e.tenant.ID, "CAROL_1"); err != nil || got.ID != u["id"] {
		t.Fatalf("the user name: %+v %v", got, err)
	}
	e.must(e.admin, http.StatusCreated, "POST", "/v1.0/users", user("dave@contoso.test", email("carol@example.test")))
	// Deleting the user frees its names.
	e.must(e.admin, http.StatusNoContent, "DELETE", "/v1.0/users/"+u["id"].(string), nil)
	if _, err := e.svc.Directory().UserBySignInName(ctx, e.tenant.ID, "carol_1"); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("a deleted user's name: %v", err)
	}
	// Graph's B2C example: displayName, identities and passwordProfile
	// only; the account gets B2C's generated user principal name.
	m = e.must(e.admin, http.StatusCreated, "POST", "/v1.0/users", map[string]any{"displayName": "John Smith",
		"identities":      []any{map[string]any{"signInType": "userName", "issuer": "contoso.test", "issuerAssignedId": "johnsmith"}, email("jsmith@example.test")},
		"passwordProfile": map[string]any{"password": "Corr3ct-Horse", "forceChangePasswordNextSignIn": false}, "passwordPolicies": "DisablePasswordExpiration"})
	id := m["id"].(string)
	if m["userPrincipalName"] != id+"@contoso.test" {
		t.Fatalf("a local account's user principal name: %v", m)
	}
	local := e.must(e.admin, http.StatusOK, "GET", "/v1.0/users/"+id+"?$select=accountEnabled,creationType,identities", nil)
	if ids, _ := local["identities"].([]any); local["accountEnabled"] != true || local["creationType"] != "LocalAccount" || len(ids) != 3 {
		t.Fatalf("a local account: %v", local)
	}
	if got, err := e.svc.Directory().UserBySignInName(ctx, e.tenant.ID, "JohnSmith"); err != nil || got.ID != id {
		t.Fatalf("the local account by user name: %+v %v", got, err)
	}
	// Without a local identity, the usual properties are required.
	e.must(e.admin, http.StatusBadRequest, "POST", "/v1.0/users", map[string]any{"displayName": "Fed", "passwordProfile": map[string]any{"password": "Corr3ct-Horse"},
		"identities": []any{map[string]any{"signInType": "federated", "issuer": "facebook.com", "issuerAssignedId": "42"}}})
}
