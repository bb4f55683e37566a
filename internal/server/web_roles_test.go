package server

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"

	"github.com/steward-gov/steward/internal/rbac"
)

// TestConsoleGrantsRolesWithinDelegation: a user who may delegate only the
// Reader role (Role Based Access Control Administrator with a condition)
// grants Reader to a colleague from the console's roles page after a
// step-up, and is refused Owner by the management API's condition; the
// console checks its input and asks for the step-up first.
func TestConsoleGrantsRolesWithinDelegation(t *testing.T) {
	e := newConsoleEstate(t)
	ctx := context.Background()
	kim, err := e.s.Identity.CreateUser(ctx, e.s.Bootstrap.TenantID, "kim@steward.test", "Kim", "Kim-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	lee, err := e.s.Identity.CreateUser(ctx, e.s.Bootstrap.TenantID, "lee@steward.test", "Lee", "Lee-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	scope := "/subscriptions/" + e.sub
	cond := `((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {` + rbac.ReaderRoleID + `}))`
	if code, out := e.arm(t, "PUT", scope+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString(), "2022-04-01", map[string]any{
		"properties": map[string]any{"roleDefinitionId": scope + "/providers/Microsoft.Authorization/roleDefinitions/" + rbac.RBACAdministratorRoleID,
			"principalId": kim.ID, "principalType": "User", "condition": cond, "conditionVersion": "2.0"}}); code != http.StatusCreated {
		t.Fatalf("delegating to kim: %d %v", code, out)
	}

	b := e.browser(t)
	p := b.submit(b.get("/console/roles"), url.Values{"login": {"kim@steward.test"}, "passwd": {"Kim-Password-1"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, `value="`+scope+`"`) ||
		!regexp.MustCompile(`<td>Role Based Access Control Administrator</td><td>`+kim.ID+`</td><td>User</td><td>this scope</td><td>yes</td>`).MatchString(p.body) ||
		!strings.Contains(p.body, `<option value="Reader">`) || !strings.Contains(p.body, "needs a second factor") {
		t.Fatalf("the roles page: %d\n%.4000s", p.status, p.body)
	}
	csrfField := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	csrf := csrfField.FindStringSubmatch(p.body)
	if csrf == nil {
		t.Fatal("no CSRF token on the roles page")
	}
	grant := func(role, principal, ptype string) consolePage {
		t.Helper()
		form := url.Values{"csrf": {html.UnescapeString(csrf[1])}, "scope": {scope}, "role": {role}, "principal": {principal}, "type": {ptype}}
		req, _ := http.NewRequest(http.MethodPost, b.base+"/console/roles/assign", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return b.do(req)
	}
	leeRoles := func() []string {
		t.Helper()
		code, out := e.arm(t, "GET", scope+"/providers/Microsoft.Authorization/roleAssignments", "2022-04-01&$filter="+url.QueryEscape("principalId eq '"+lee.ID+"'"), nil)
		if code != http.StatusOK {
			t.Fatalf("listing lee's assignments: %d %v", code, out)
		}
		var roles []string
		for _, v := range out["value"].([]any) {
			id := v.(map[string]any)["properties"].(map[string]any)["roleDefinitionId"].(string)
			roles = append(roles, id[strings.LastIndex(id, "/")+1:])
		}
		return roles
	}

	// Without a recent second factor the grant goes to the step-up first.
	if p = grant("Reader", lee.ID, "User"); p.status != http.StatusSeeOther {
		t.Fatalf("a grant without a second factor: %d\n%.2000s", p.status, p.body)
	}
	if roles := leeRoles(); len(roles) != 0 {
		t.Fatalf("a grant without a second factor was made: %v", roles)
	}
	p = b.stepUpWithTOTP("/console/roles")
	csrf = csrfField.FindStringSubmatch(p.body) // the step-up's new session has its own

	// Input the console does not send on is refused before the API.
	for _, bad := range [][3]string{{"Reader", "not-an-id", "User"}, {"Reader'--", lee.ID, "User"}, {"Reader", lee.ID, "Robot"}} {
		if p = grant(bad[0], bad[1], bad[2]); p.status != http.StatusBadRequest {
			t.Errorf("%v: %d", bad, p.status)
		}
	}
	if p = grant("No Such Role", lee.ID, "User"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "No role named No Such Role") {
		t.Errorf("an unknown role: %d\n%.1500s", p.status, p.body)
	}

	// Reader is within kim's delegation; Owner is not, and the
	// management API's condition refuses it.
	if p = grant("Reader", lee.ID, "User"); p.status != http.StatusSeeOther {
		t.Fatalf("granting Reader: %d\n%.2000s", p.status, p.body)
	}
	if roles := leeRoles(); len(roles) != 1 || roles[0] != rbac.ReaderRoleID {
		t.Fatalf("lee's roles after the grant: %v", roles)
	}
	if p = b.get("/console/roles?done=assigned&scope=" + url.QueryEscape(scope)); !strings.Contains(p.body, "The role assignment is created.") ||
		!strings.Contains(p.body, `<td>Reader</td><td>`+lee.ID+`</td>`) {
		t.Fatalf("the roles page after the grant:\n%.4000s", p.body)
	}
	if p = grant("Owner", lee.ID, "User"); p.status != http.StatusForbidden || !strings.Contains(p.body, "not allowed") {
		t.Fatalf("granting Owner beyond the delegation: %d\n%.2000s", p.status, p.body)
	}
	if roles := leeRoles(); len(roles) != 1 {
		t.Fatalf("lee's roles after the refused grant: %v", roles)
	}
}

// stepUpWithTOTP enrols an authenticator app through the console's step-up
// and comes back to ret, whose page it returns.
func (b *consoleBrowser) stepUpWithTOTP(ret string) consolePage {
	b.t.Helper()
	p := b.get("/console/signin?stepup=1&return=" + url.QueryEscape(ret))
	m := regexp.MustCompile(`<code id="secret">([A-Z2-7 ]+)</code>`).FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("step-up did not ask to enrol: %d %s\n%.500s", p.status, p.url, p.body)
	}
	code, _ := totp.GenerateCode(strings.ReplaceAll(m[1], " ", ""), time.Now())
	p = b.submit(b.submit(p, url.Values{"otc": {code}}), nil)
	if p.status != http.StatusOK || strings.Contains(p.body, "needs a second factor") {
		b.t.Fatalf("after the step-up: %d %s\n%.2000s", p.status, p.url, p.body)
	}
	return p
}
