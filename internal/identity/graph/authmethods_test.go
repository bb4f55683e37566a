package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/steward-gov/steward/internal/identity"
)

func TestUserSignInAdministration(t *testing.T) {
	e := newEnv(t)
	a := e.admin
	u := e.must(a, 201, "POST", "/v1.0/users", map[string]any{"userPrincipalName": "ann@contoso.test", "displayName": "Ann",
		"mailNickname": "ann", "accountEnabled": true, "passwordProfile": map[string]any{"password": "Corr3ct-Horse!"}})
	path := "/v1.0/users/" + u["id"].(string)
	if vs := values(e.must(a, 200, "GET", path+"/authentication/softwareOathMethods", nil)); len(vs) != 0 {
		t.Fatalf("methods before enrolment: %v", vs)
	}
	m := e.must(a, 201, "POST", path+"/authentication/softwareOathMethods", map[string]any{})
	secret, _ := m["secretKey"].(string)
	codes, _ := m["recoveryCodes"].([]any)
	if secret == "" || len(codes) != 10 {
		t.Fatalf("enrolment: %v", m)
	}
	e.must(a, 409, "POST", path+"/authentication/softwareOathMethods", map[string]any{})
	code, _ := totp.GenerateCode(secret, time.Now())
	if err := e.svc.VerifySecondFactor(context.Background(), e.tenant.ID, u["id"].(string), code); err != nil {
		t.Fatalf("the enrolled secret does not verify: %v", err)
	}
	vs := values(e.must(a, 200, "GET", path+"/authentication/softwareOathMethods", nil))
	if len(vs) != 1 || vs[0]["secretKey"] != nil {
		t.Fatalf("listing shows %v (the secret must not be readable)", vs)
	}
	e.must(a, 204, "DELETE", path+"/authentication/softwareOathMethods/"+vs[0]["id"].(string), nil)
	e.must(a, 404, "DELETE", path+"/authentication/softwareOathMethods/"+vs[0]["id"].(string), nil)

	// Revoking and resetting the password move signInSessionsValidFromDateTime.
	if r := e.must(a, 200, "POST", path+"/revokeSignInSessions", nil); r["value"] != true {
		t.Fatalf("revokeSignInSessions: %v", r)
	}
	if got := e.must(a, 200, "GET", path+"?$select=id,signInSessionsValidFromDateTime", nil); got["signInSessionsValidFromDateTime"] == nil {
		t.Fatalf("no signInSessionsValidFromDateTime after a revocation: %v", got)
	}
	// A principal without a directory role can do none of it.
	nobody := e.newPrincipal(e.tenant.ID, "nobody")
	e.must(nobody, 403, "POST", path+"/revokeSignInSessions", nil)
	e.must(nobody, 403, "POST", path+"/authentication/softwareOathMethods", map[string]any{})

	// Security keys are registered by the user at sign-in; Graph lists
	// and deletes them (the registration itself is tested in the
	// identity and server packages).
	if vs := values(e.must(a, 200, "GET", path+"/authentication/fido2Methods", nil)); len(vs) != 0 {
		t.Fatalf("security keys of a user without any: %v", vs)
	}
	e.must(a, 404, "DELETE", path+"/authentication/fido2Methods/AQIDBA", nil)
	e.must(a, 405, "POST", path+"/authentication/fido2Methods", map[string]any{})
	e.must(nobody, 403, "GET", path+"/authentication/fido2Methods", nil)
}

// Several authenticator apps are listed and deleted one by one; the
// user reads their own methods at /me/authentication/methods.
func TestAuthenticationMethodsOfSeveralApps(t *testing.T) {
	e := newEnv(t)
	a := e.admin
	ctx := context.Background()
	u := e.must(a, 201, "POST", "/v1.0/users", map[string]any{"userPrincipalName": "ann@contoso.test", "displayName": "Ann",
		"mailNickname": "ann", "accountEnabled": true, "passwordProfile": map[string]any{"password": "Corr3ct-Horse!"}})
	id := u["id"].(string)
	path := "/v1.0/users/" + id
	m := e.must(a, 201, "POST", path+"/authentication/softwareOathMethods", map[string]any{})
	user, err := e.svc.Directory().User(ctx, e.tenant.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	// A second app, as the security-info page adds it.
	second, err := e.svc.AddAuthenticatorApp(ctx, e.tenant.ID, user, "Tablet")
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(second.Secret, time.Now())
	if _, err := e.svc.ConfirmTOTP(ctx, e.tenant.ID, id, code); err != nil {
		t.Fatal(err)
	}
	oath := values(e.must(a, 200, "GET", path+"/authentication/softwareOathMethods", nil))
	if len(oath) != 2 || oath[0]["id"] != m["id"] || oath[1]["id"] == m["id"] || oath[1]["secretKey"] != nil {
		t.Fatalf("two apps: %v", oath)
	}
	e.must(a, 200, "GET", path+"/authentication/softwareOathMethods/"+oath[1]["id"].(string), nil)
	if vs := values(e.must(a, 200, "GET", path+"/authentication/microsoftAuthenticatorMethods", nil)); len(vs) != 0 {
		t.Fatalf("push apps: %v", vs)
	}
	// The user's own view: /me, with a delegated token.
	tok, _, err := e.svc.IssueUserToken(ctx, e.tenant.ID, id, "00000000-0000-0000-0000-00000000000a", DefaultResource, identity.SignIn{AMR: []string{"pwd"}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1.0/me/authentication/methods", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var mine struct {
		Value []map[string]any `json:"value"`
	}
	err = json.NewDecoder(resp.Body).Decode(&mine)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(mine.Value) != 3 || mine.Value[0]["id"] != "28c10230-6103-485e-b985-444c60001490" ||
		mine.Value[0]["@odata.type"] != "#microsoft.graph.passwordAuthenticationMethod" ||
		mine.Value[2]["@odata.type"] != "#microsoft.graph.softwareOathAuthenticationMethod" {
		t.Fatalf("/me/authentication/methods: %d %+v %v", resp.StatusCode, mine.Value, err)
	}
	// Deleting one app leaves the other working.
	e.must(a, 204, "DELETE", path+"/authentication/softwareOathMethods/"+oath[0]["id"].(string), nil)
	if vs := values(e.must(a, 200, "GET", path+"/authentication/softwareOathMethods", nil)); len(vs) != 1 || vs[0]["id"] != oath[1]["id"] {
		t.Fatalf("after a delete: %v", vs)
	}
	code, _ = totp.GenerateCode(second.Secret, time.Now().Add(30*time.Second))
	if err := e.svc.VerifySecondFactor(ctx, e.tenant.ID, id, code); err != nil {
		t.Fatalf("the remaining app: %v", err)
	}
}
