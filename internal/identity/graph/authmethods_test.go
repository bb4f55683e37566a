package graph

import (
	"context"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
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
