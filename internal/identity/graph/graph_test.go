package graph

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/steward-gov/steward/internal/identity"
)

func TestApplicationsLifecycle(t *testing.T) {
	e := newEnv(t)
	a := e.admin
	created := e.must(a, 201, "POST", "/v1.0/applications", map[string]any{
		"displayName":    "billing",
		"identifierUris": []string{"api://billing"},
		"signInAudience": "AzureADMultipleOrgs",
		"api": map[string]any{"oauth2PermissionScopes": []any{map[string]any{
			"id": "4b1c6b2e-3a8b-4f5e-9f7a-1d2c3b4a5f6e", "value": "read", "type": "User", "isEnabled": true,
			"adminConsentDisplayName": "Read", "adminConsentDescription": "Read billing"}}},
		"appRoles": []any{map[string]any{"id": "0d5b5a0e-6a3c-4c7a-9a55-0a9b1c2d3e4f", "value": "Billing.Read",
			"allowedMemberTypes": []string{"Application"}, "displayName": "Read", "description": "Read", "isEnabled": true}},
		"requiredResourceAccess": []any{map[string]any{"resourceAppId": "00000003-0000-0000-c000-000000000000",
			"resourceAccess": []any{map[string]any{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}}}},
		"web": map[string]any{"redirectUris": []string{"https://billing.test/auth"}},
	})
	id, appID := created["id"].(string), created["appId"].(string)
	if id == "" || appID == "" || created["signInAudience"] != "AzureADMultipleOrgs" {
		t.Fatalf("created: %v", created)
	}
	got := e.must(a, 200, "GET", "/v1.0/applications/"+id, nil)
	scopes := got["api"].(map[string]any)["oauth2PermissionScopes"].([]any)
	if len(scopes) != 1 || got["web"].(map[string]any)["redirectUris"].([]any)[0] != "https://billing.test/auth" {
		t.Fatalf("get: %v", got)
	}
	// alternate key and $select
	sel := e.must(a, 200, "GET", "/v1.0/applications(appId='"+appID+"')?$select=id,displayName", nil)
	if sel["id"] != id || sel["displayName"] != "billing" || sel["appId"] != nil {
		t.Fatalf("$select: %v", sel)
	}
	e.must(a, 204, "PATCH", "/v1.0/applications/"+id, map[string]any{"displayName": "billing2", "notes": "n"})
	if got := e.must(a, 200, "GET", "/v1.0/applications/"+id, nil); got["displayName"] != "billing2" || got["notes"] != "n" {
		t.Fatalf("after patch: %v", got)
	}
	// passwords
	pw := e.must(a, 200, "POST", "/v1.0/applications/"+id+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "ci"}})
	secret, _ := pw["secretText"].(string)
	if len(secret) < 30 || pw["hint"] != secret[:3] {
		t.Fatalf("addPassword: %v", pw)
	}
	if got := e.must(a, 200, "GET", "/v1.0/applications/"+id, nil); got["passwordCredentials"].([]any)[0].(map[string]any)["secretText"] != nil {
		t.Fatal("the secret is shown again after addPassword")
	}
	e.must(a, 204, "POST", "/v1.0/applications/"+id+"/removePassword", map[string]any{"keyId": pw["keyId"]})
	// certificate through keyCredentials
	cert := testCert(t)
	e.must(a, 204, "PATCH", "/v1.0/applications/"+id, map[string]any{"keyCredentials": []any{map[string]any{
		"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.StdEncoding.EncodeToString(cert.Raw)}}})
	keys := e.must(a, 200, "GET", "/v1.0/applications/"+id, nil)["keyCredentials"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["key"] != nil || keys[0].(map[string]any)["customKeyIdentifier"] == "" {
		t.Fatalf("keyCredentials: %v", keys)
	}
	// delete
	e.must(a, 204, "DELETE", "/v1.0/applications/"+id, nil)
	if m := e.must(a, 404, "GET", "/v1.0/applications/"+id, nil); errCode(m) != "Request_ResourceNotFound" {
		t.Fatalf("after delete: %v", m)
	}
}

func TestApplicationBadInput(t *testing.T) {
	e := newEnv(t)
	e.must(e.admin, 201, "POST", "/v1.0/applications", map[string]any{"displayName": "one", "identifierUris": []string{"api://one"}})
	cases := []struct {
		name string
		body any
		want string
	}{
		{"no display name", map[string]any{}, "displayName"},
		{"unknown property", map[string]any{"displayName": "x", "colour": "red"}, "colour"},
		{"duplicate identifier URI", map[string]any{"displayName": "x", "identifierUris": []string{"API://one"}}, "identifierUris"},
		{"relative identifier URI", map[string]any{"displayName": "x", "identifierUris": []string{"one"}}, "absolute"},
		{"bad app role", map[string]any{"displayName": "x", "appRoles": []any{map[string]any{"id": "nope", "allowedMemberTypes": []string{"User"}}}}, "GUID"},
		{"bad scope type", map[string]any{"displayName": "x", "api": map[string]any{"oauth2PermissionScopes": []any{map[string]any{"id": "4b1c6b2e-3a8b-4f5e-9f7a-1d2c3b4a5f6e", "type": "Everyone"}}}}, "User or Admin"},
		{"http redirect", map[string]any{"displayName": "x", "web": map[string]any{"redirectUris": []string{"http://example.test/cb"}}}, "https"},
		{"personal accounts", map[string]any{"displayName": "x", "signInAudience": "PersonalMicrosoftAccount"}, "not supported"},
		{"not a certificate", map[string]any{"displayName": "x", "keyCredentials": []any{map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify", "key": "AAAA"}}}, "certificate"},
		{"password credentials", map[string]any{"displayName": "x", "passwordCredentials": []any{map[string]any{"displayName": "p"}}}, "addPassword"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, m := e.do(e.admin, "POST", "/v1.0/applications", tc.body)
			msg, _ := m["error"].(map[string]any)["message"].(string)
			if code != 400 || !strings.Contains(msg, tc.want) {
				t.Fatalf("status %d, %v; want 400 mentioning %q", code, m, tc.want)
			}
			inner, _ := m["error"].(map[string]any)["innerError"].(map[string]any)
			if inner["request-id"] == "" || inner["date"] == "" {
				t.Fatalf("innerError: %v", m)
			}
		})
	}
}

func TestQueries(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"alpha", "beta", "gamma", "delta", "alpine"} {
		e.must(e.admin, 201, "POST", "/v1.0/groups", map[string]any{"displayName": n, "mailNickname": n, "mailEnabled": false, "securityEnabled": true})
	}
	cases := []struct {
		query string
		hdr   []string
		want  []string // displayNames, sorted by id unless ordered
		code  int
	}{
		{query: "$filter=displayName eq 'BETA'", want: []string{"beta"}},
		{query: "$filter=startswith(displayName,'al')&$orderby=displayName", want: []string{"alpha", "alpine"}},
		{query: "$filter=displayName in ('gamma','delta')&$orderby=displayName desc", want: []string{"gamma", "delta"}},
		{query: "$filter=displayName eq 'alpha' or displayName eq 'beta'&$orderby=displayName", want: []string{"alpha", "beta"}},
		{query: "$filter=not(startswith(displayName,'a')) and securityEnabled eq true&$orderby=displayName", want: []string{"beta", "delta", "gamma"}},
		{query: "$filter=colour eq 'red'", code: 400},
		{query: "$filter=displayName eq", code: 400},
		{query: "$filter=displayName gt 'a'", code: 400},
		{query: "$top=0", code: 400},
		{query: "$top=1000", code: 400},
		{query: "$count=true", code: 400},
		{query: "$search=\"displayName:a\"", code: 400},
		{query: "$expand=members", code: 400},
		{query: "$frobnicate=1", code: 400},
		{query: "$select=nope", code: 400},
		{query: "$skiptoken=garbage", code: 400},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			q := url.Values{}
			for _, kv := range strings.Split(tc.query, "&") {
				k, v, _ := strings.Cut(kv, "=")
				q.Set(k, v)
			}
			code, m := e.do(e.admin, "GET", "/v1.0/groups?"+q.Encode(), nil, tc.hdr...)
			if tc.code != 0 {
				if code != tc.code {
					t.Fatalf("status %d, want %d: %v", code, tc.code, m)
				}
				return
			}
			if code != 200 {
				t.Fatalf("status %d: %v", code, m)
			}
			var got []string
			for _, v := range values(m) {
				got = append(got, v["displayName"].(string))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("paging and count", func(t *testing.T) {
		m := e.must(e.admin, 200, "GET", "/v1.0/groups?$count=true&$top=2", nil, "ConsistencyLevel", "eventual")
		if m["@odata.count"] != float64(5) || len(values(m)) != 2 {
			t.Fatalf("first page: %v", m)
		}
		seen := map[string]bool{}
		for _, v := range values(m) {
			seen[v["id"].(string)] = true
		}
		for next, _ := m["@odata.nextLink"].(string); next != ""; next, _ = m["@odata.nextLink"].(string) {
			m = e.must(e.admin, 200, "GET", strings.TrimPrefix(next, e.srv.URL), nil, "ConsistencyLevel", "eventual")
			for _, v := range values(m) {
				seen[v["id"].(string)] = true
			}
		}
		if len(seen) != 5 {
			t.Fatalf("paging saw %d groups, want 5", len(seen))
		}
		if c := e.must(e.admin, 200, "GET", "/v1.0/groups/$count", nil, "ConsistencyLevel", "eventual"); c["text"] != "5" {
			t.Fatalf("$count: %v", c)
		}
	})
}

func TestGroupsMembership(t *testing.T) {
	e := newEnv(t)
	a := e.admin
	mk := func(name string) string {
		return e.must(a, 201, "POST", "/v1.0/groups", map[string]any{"displayName": name, "mailNickname": name,
			"mailEnabled": false, "securityEnabled": true})["id"].(string)
	}
	outer, inner := mk("outer"), mk("inner")
	user := e.must(a, 201, "POST", "/v1.0/users", map[string]any{"accountEnabled": true, "displayName": "Ann",
		"mailNickname": "ann", "userPrincipalName": "ann@contoso.test",
		"passwordProfile": map[string]any{"password": "Corr3ct-Horse!", "forceChangePasswordNextSignIn": false}})["id"].(string)
	ref := func(id string) map[string]any {
		return map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + id}
	}
	e.must(a, 204, "POST", "/v1.0/groups/"+outer+"/members/$ref", ref(inner))
	e.must(a, 204, "POST", "/v1.0/groups/"+inner+"/members/$ref", ref(user))
	if m := e.must(a, 400, "POST", "/v1.0/groups/"+inner+"/members/$ref", ref(user)); !strings.Contains(fmt.Sprint(m), "already exist") {
		t.Fatalf("duplicate member: %v", m)
	}
	e.must(a, 404, "POST", "/v1.0/groups/"+inner+"/members/$ref", ref("0b3c1d7e-0000-4000-8000-000000000000"))
	if vs := values(e.must(a, 200, "GET", "/v1.0/groups/"+outer+"/members", nil)); len(vs) != 1 || vs[0]["@odata.type"] != "#microsoft.graph.group" {
		t.Fatalf("members: %v", vs)
	}
	if vs := values(e.must(a, 200, "GET", "/v1.0/groups/"+outer+"/transitiveMembers", nil)); len(vs) != 2 {
		t.Fatalf("transitiveMembers: %v", vs)
	}
	if vs := values(e.must(a, 200, "GET", "/v1.0/users/ann@contoso.test/memberOf", nil)); len(vs) != 1 || vs[0]["id"] != inner {
		t.Fatalf("memberOf: %v", vs)
	}
	chk := e.must(a, 200, "POST", "/v1.0/users/"+user+"/checkMemberGroups", map[string]any{"groupIds": []string{outer, mk("other")}})
	if vs, _ := chk["value"].([]any); len(vs) != 1 || vs[0] != outer {
		t.Fatalf("checkMemberGroups: %v", chk)
	}
	mg := e.must(a, 200, "POST", "/v1.0/directoryObjects/"+user+"/getMemberGroups", map[string]any{"securityEnabledOnly": true})
	if vs, _ := mg["value"].([]any); len(vs) != 2 {
		t.Fatalf("getMemberGroups: %v", mg)
	}
	ids := e.must(a, 200, "POST", "/v1.0/directoryObjects/getByIds", map[string]any{"ids": []string{user, outer, e.admin.objectID}, "types": []string{"user", "servicePrincipal"}})
	if vs := values(ids); len(vs) != 2 {
		t.Fatalf("getByIds: %v", vs)
	}
	e.must(a, 204, "DELETE", "/v1.0/groups/"+inner+"/members/"+user+"/$ref", nil)
	if vs := values(e.must(a, 200, "GET", "/v1.0/groups/"+outer+"/transitiveMembers", nil)); len(vs) != 1 {
		t.Fatalf("after removal: %v", vs)
	}
	// group validation
	for _, body := range []map[string]any{
		{"displayName": "m", "mailNickname": "m", "mailEnabled": true, "securityEnabled": true},
		{"displayName": "u", "mailNickname": "u", "mailEnabled": false, "securityEnabled": true, "groupTypes": []string{"Unified"}},
		{"displayName": "n", "mailEnabled": false, "securityEnabled": true},
	} {
		e.must(a, 400, "POST", "/v1.0/groups", body)
	}
}

func TestUsers(t *testing.T) {
	e := newEnv(t)
	a := e.admin
	body := map[string]any{"accountEnabled": true, "displayName": "Bob", "mailNickname": "bob", "userPrincipalName": "bob@contoso.test",
		"passwordProfile": map[string]any{"password": "Sup3r-secret"}}
	u := e.must(a, 201, "POST", "/v1.0/users", body)
	if _, has := u["passwordProfile"]; has || u["userPrincipalName"] != "bob@contoso.test" {
		t.Fatalf("created: %v", u)
	}
	e.must(a, 400, "POST", "/v1.0/users", body) // same UPN
	weak := map[string]any{"accountEnabled": true, "displayName": "C", "mailNickname": "c", "userPrincipalName": "c@contoso.test",
		"passwordProfile": map[string]any{"password": "password"}}
	e.must(a, 400, "POST", "/v1.0/users", weak)
	other := map[string]any{"accountEnabled": true, "displayName": "D", "mailNickname": "d", "userPrincipalName": "d@elsewhere.test",
		"passwordProfile": map[string]any{"password": "Sup3r-secret"}}
	e.must(a, 400, "POST", "/v1.0/users", other)
	e.must(a, 200, "GET", "/v1.0/users('bob@contoso.test')", nil)
	e.must(a, 204, "PATCH", "/v1.0/users/bob@contoso.test", map[string]any{"jobTitle": "Engineer", "accountEnabled": false})
	got := e.must(a, 200, "GET", "/v1.0/users/"+u["id"].(string)+"?$select=accountEnabled,jobTitle", nil)
	if got["accountEnabled"] != false || got["jobTitle"] != "Engineer" {
		t.Fatalf("after patch: %v", got)
	}
	if _, err := e.svc.AuthenticateUser(t.Context(), e.tenant.ID, "bob@contoso.test", "Sup3r-secret"); !identity.ErrBadCredentials(err) {
		t.Fatalf("a disabled user signed in: %v", err)
	}
	if m := e.must(a, 400, "GET", "/v1.0/me", nil); !strings.Contains(fmt.Sprint(m), "delegated") {
		t.Fatalf("/me with an app token: %v", m)
	}
	e.must(a, 204, "DELETE", "/v1.0/users/bob@contoso.test", nil)
	e.must(a, 404, "GET", "/v1.0/users/bob@contoso.test", nil)
}

func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	nobody := e.newPrincipal(e.tenant.ID, "nobody")
	apps := e.newPrincipal(e.tenant.ID, "apps", identity.RoleApplicationAdministrator)
	groups := e.newPrincipal(e.tenant.ID, "groups", identity.RoleGroupsAdministrator)
	users := e.newPrincipal(e.tenant.ID, "users", identity.RoleUserAdministrator)
	reader := e.newPrincipal(e.tenant.ID, "reader", identity.RoleDirectoryReaders)
	grp := map[string]any{"displayName": "g", "mailNickname": "g", "mailEnabled": false, "securityEnabled": true}
	usr := func(n string) map[string]any {
		return map[string]any{"accountEnabled": true, "displayName": n, "mailNickname": n, "userPrincipalName": n + "@contoso.test",
			"passwordProfile": map[string]any{"password": "Sup3r-secret"}}
	}
	cases := []struct {
		who          principal
		method, path string
		body         any
		want         int
	}{
		{nobody, "GET", "/v1.0/applications", nil, 403},
		{nobody, "POST", "/v1.0/applications", map[string]any{"displayName": "x"}, 403},
		{nobody, "GET", "/v1.0/users", nil, 403},
		{nobody, "GET", "/v1.0/servicePrincipals/" + nobody.objectID, nil, 200}, // itself
		{nobody, "GET", "/v1.0/organization", nil, 200},
		{reader, "GET", "/v1.0/users", nil, 200},
		{reader, "POST", "/v1.0/groups", grp, 403},
		{apps, "POST", "/v1.0/applications", map[string]any{"displayName": "x"}, 201},
		{apps, "POST", "/v1.0/groups", grp, 403},
		{groups, "POST", "/v1.0/groups", grp, 201},
		{groups, "POST", "/v1.0/users", usr("g1"), 403},
		{users, "POST", "/v1.0/users", usr("u1"), 201},
		{users, "POST", "/v1.0/groups", grp, 201},
		{users, "POST", "/v1.0/applications", map[string]any{"displayName": "x"}, 403},
		{apps, "POST", "/v1.0/roleManagement/directory/roleAssignments", map[string]any{"principalId": apps.objectID,
			"roleDefinitionId": identity.RoleGlobalAdministrator, "directoryScopeId": "/"}, 403},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			code, m := e.do(tc.who, tc.method, tc.path, tc.body)
			if code != tc.want {
				t.Fatalf("status %d, want %d: %v", code, tc.want, m)
			}
			if code == 403 && errCode(m) != "Authorization_RequestDenied" {
				t.Fatalf("403 code %v", m)
			}
		})
	}
	t.Run("owners manage their objects", func(t *testing.T) {
		g := e.must(e.admin, 201, "POST", "/v1.0/groups", map[string]any{"displayName": "owned", "mailNickname": "owned",
			"mailEnabled": false, "securityEnabled": true, "owners@odata.bind": []string{"https://graph.microsoft.com/v1.0/directoryObjects/" + nobody.objectID}})
		gid := g["id"].(string)
		e.must(nobody, 204, "POST", "/v1.0/groups/"+gid+"/members/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + reader.objectID})
		other := e.must(e.admin, 201, "POST", "/v1.0/groups", grp)["id"].(string)
		e.must(nobody, 403, "POST", "/v1.0/groups/"+other+"/members/$ref", map[string]any{"@odata.id": reader.objectID})
	})
	t.Run("a user administrator cannot manage an administrator", func(t *testing.T) {
		u := e.must(e.admin, 201, "POST", "/v1.0/users", usr("boss"))["id"].(string)
		e.must(e.admin, 201, "POST", "/v1.0/roleManagement/directory/roleAssignments", map[string]any{"principalId": u,
			"roleDefinitionId": identity.RoleGlobalAdministrator, "directoryScopeId": "/"})
		e.must(users, 403, "DELETE", "/v1.0/users/"+u, nil)
		e.must(e.admin, 204, "DELETE", "/v1.0/users/"+u, nil)
	})
	t.Run("privileged objects are the Global Administrator's", func(t *testing.T) {
		adminApp := e.must(e.admin, 200, "GET", "/v1.0/applications(appId='"+e.admin.appID+"')", nil)["id"].(string)
		e.must(apps, 403, "POST", "/v1.0/applications/"+adminApp+"/addPassword", map[string]any{})
		e.must(apps, 403, "PATCH", "/v1.0/servicePrincipals/"+e.admin.objectID, map[string]any{"notes": "x"})
		other := e.must(apps, 201, "POST", "/v1.0/applications", map[string]any{"displayName": "plain"})["id"].(string)
		e.must(apps, 200, "POST", "/v1.0/applications/"+other+"/addPassword", map[string]any{})
		admins := e.must(e.admin, 201, "POST", "/v1.0/groups", map[string]any{"displayName": "admins", "mailNickname": "admins",
			"mailEnabled": false, "securityEnabled": true})["id"].(string)
		e.must(e.admin, 201, "POST", "/v1.0/roleManagement/directory/roleAssignments", map[string]any{"principalId": admins,
			"roleDefinitionId": identity.RoleGlobalAdministrator, "directoryScopeId": "/"})
		join := map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + groups.objectID}
		e.must(groups, 403, "POST", "/v1.0/groups/"+admins+"/members/$ref", join)
		e.must(e.admin, 204, "POST", "/v1.0/groups/"+admins+"/members/$ref", join)
	})
	t.Run("no token", func(t *testing.T) {
		resp, err := http.Get(e.srv.URL + "/v1.0/users")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func TestServicePrincipalsAndConsent(t *testing.T) {
	e := newEnv(t)
	a := e.admin
	api := e.must(a, 201, "POST", "/v1.0/applications", map[string]any{"displayName": "api", "identifierUris": []string{"api://api"},
		"appRoles": []any{map[string]any{"id": "0d5b5a0e-6a3c-4c7a-9a55-0a9b1c2d3e4f", "value": "Data.Read",
			"allowedMemberTypes": []string{"Application"}, "isEnabled": true, "displayName": "r", "description": "r"}}})
	sp := e.must(a, 201, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": api["appId"]})
	e.must(a, 409, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": api["appId"]})
	e.must(a, 400, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": "6e7a2b40-0000-4000-8000-000000000000"})
	names := e.must(a, 200, "GET", "/v1.0/servicePrincipals?$filter="+url.QueryEscape("servicePrincipalNames/any(c:c eq 'api://api')"), nil)
	if vs := values(names); len(vs) != 1 || vs[0]["id"] != sp["id"] {
		t.Fatalf("servicePrincipalNames filter: %v", names)
	}
	byApp := e.must(a, 200, "GET", "/v1.0/servicePrincipals?$filter="+url.QueryEscape("appId eq '"+api["appId"].(string)+"'"), nil)
	if len(values(byApp)) != 1 {
		t.Fatalf("appId filter: %v", byApp)
	}
	ara := e.must(a, 201, "POST", "/v1.0/servicePrincipals/"+sp["id"].(string)+"/appRoleAssignedTo", map[string]any{
		"principalId": e.admin.objectID, "resourceId": sp["id"], "appRoleId": "0d5b5a0e-6a3c-4c7a-9a55-0a9b1c2d3e4f"})
	if vs := values(e.must(a, 200, "GET", "/v1.0/servicePrincipals/"+e.admin.objectID+"/appRoleAssignments", nil)); len(vs) != 1 || vs[0]["id"] != ara["id"] {
		t.Fatalf("appRoleAssignments: %v", vs)
	}
	// the assignment is the roles claim of the principal's tokens for the API
	tok, err := e.svc.Token(t.Context(), identity.TokenRequest{Tenant: e.tenant.ID, ClientID: e.admin.appID,
		ClientSecret: e.admin.secret, Scope: "api://api/.default"})
	if err != nil {
		t.Fatal(err)
	}
	var claims identity.AccessClaims
	parsed, err := jwt.ParseSigned(tok.AccessToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || parsed.UnsafeClaimsWithoutVerification(&claims) != nil {
		t.Fatalf("token: %v", err)
	}
	if fmt.Sprint(claims.Roles) != "[Data.Read]" || claims.Audience != "api://api" {
		t.Fatalf("roles claim %v for aud %s, want [Data.Read]", claims.Roles, claims.Audience)
	}
	e.must(a, 400, "POST", "/v1.0/servicePrincipals/"+sp["id"].(string)+"/appRoleAssignedTo", map[string]any{
		"principalId": e.admin.objectID, "appRoleId": "11111111-1111-4111-8111-111111111111"})
	g := e.must(a, 201, "POST", "/v1.0/oauth2PermissionGrants", map[string]any{"clientId": e.admin.objectID, "consentType": "AllPrincipals",
		"resourceId": sp["id"], "scope": "user_impersonation"})
	if vs := values(e.must(a, 200, "GET", "/v1.0/oauth2PermissionGrants?$filter="+url.QueryEscape("clientId eq '"+e.admin.objectID+"'"), nil)); len(vs) != 1 || vs[0]["id"] != g["id"] {
		t.Fatalf("grants: %v", vs)
	}
	e.must(a, 204, "DELETE", "/v1.0/oauth2PermissionGrants/"+g["id"].(string), nil)
}

func TestMultiTenantConsent(t *testing.T) {
	e := newEnv(t)
	nt := e.must(e.admin, 201, "POST", TenantsPath, map[string]any{"displayName": "Fabrikam", "domains": []string{"fabrikam.test"}})
	other := principal{appID: nt["clientId"].(string), objectID: nt["objectId"].(string), secret: nt["clientSecret"].(string), tenant: nt["tenantId"].(string)}
	single := e.must(e.admin, 201, "POST", "/v1.0/applications", map[string]any{"displayName": "single"})
	multi := e.must(e.admin, 201, "POST", "/v1.0/applications", map[string]any{"displayName": "collector", "signInAudience": "AzureADMultipleOrgs"})
	pw := e.must(e.admin, 200, "POST", "/v1.0/applications/"+multi["id"].(string)+"/addPassword", map[string]any{})
	e.must(other, 400, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": single["appId"]})
	sp := e.must(other, 201, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": multi["appId"]})
	if sp["appOwnerOrganizationId"] != e.tenant.ID {
		t.Fatalf("consented sp: %v", sp)
	}
	tok, err := e.svc.Token(t.Context(), identity.TokenRequest{Tenant: other.tenant, ClientID: multi["appId"].(string),
		ClientSecret: pw["secretText"].(string), Scope: "https://management.azure.com/.default"})
	if err != nil {
		t.Fatalf("multi-tenant app token in the consenting tenant: %v", err)
	}
	p, err := (&identity.Validator{Keys: e.svc.Keys(), Audiences: []string{"https://management.azure.com"}}).Validate(t.Context(), tok.AccessToken)
	if err != nil || p.TenantID != other.tenant || p.ObjectID != sp["id"] {
		t.Fatalf("token principal %+v, %v", p, err)
	}
	// a tenant's administrator may not create tenants
	e.must(other, 403, "POST", TenantsPath, map[string]any{"displayName": "x"})
	// and objects stay in their tenant
	e.must(other, 404, "GET", "/v1.0/applications/"+multi["id"].(string), nil)
}

func testCert(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestFederatedIdentityCredentials(t *testing.T) {
	e := newEnv(t)
	a := e.admin
	app := e.must(a, 201, "POST", "/v1.0/applications", map[string]any{"displayName": "pipeline"})
	base := "/v1.0/applications/" + app["id"].(string) + "/federatedIdentityCredentials"
	fic := e.must(a, 201, "POST", base, map[string]any{"name": "main", "issuer": "https://token.actions.githubusercontent.com",
		"subject": "repo:contoso/app:ref:refs/heads/main", "description": "CI"})
	if aud := fic["audiences"].([]any); len(aud) != 1 || aud[0] != identity.DefaultFederatedAudience {
		t.Fatalf("created: %v", fic)
	}
	for _, bad := range []map[string]any{
		{"name": "main", "issuer": "https://other.test", "subject": "s"},                                                             // duplicate name
		{"name": "plain", "issuer": "http://ci.example.com", "subject": "s"},                                                         // not https
		{"name": "two", "issuer": "https://ci.test", "subject": "s", "audiences": []string{"a", "b"}},                                // two audiences
		{"name": "same", "issuer": "https://token.actions.githubusercontent.com", "subject": "repo:contoso/app:ref:refs/heads/main"}, // same issuer+subject
	} {
		e.must(a, 400, "POST", base, bad)
	}
	if vs := values(e.must(a, 200, "GET", base, nil)); len(vs) != 1 {
		t.Fatalf("list: %v", vs)
	}
	e.must(a, 204, "PATCH", base+"/main", map[string]any{"subject": "repo:contoso/app:environment:prod"})
	if got := e.must(a, 200, "GET", base+"/"+fic["id"].(string), nil); got["subject"] != "repo:contoso/app:environment:prod" {
		t.Fatalf("after patch: %v", got)
	}
	e.must(a, 400, "PATCH", base+"/main", map[string]any{"name": "renamed"})
	e.must(a, 204, "DELETE", base+"/main", nil)
	e.must(a, 404, "GET", base+"/main", nil)
}
