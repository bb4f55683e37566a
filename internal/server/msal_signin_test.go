package server

import (
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/identity"
)

// TestMSALPythonSignsUserIn runs MSAL for Python's
// ConfidentialClientApplication auth code flow against a served Steward:
// MSAL builds the authorization request (PKCE, state, nonce), the script
// fills in Steward's sign-in and consent pages, MSAL redeems the code,
// checks the id_token and then gets a token for ARM silently with the
// refresh token.
func TestMSALPythonSignsUserIn(t *testing.T) {
	py := pythonWithMSAL(t)
	s, _ := startSteward(t, t.TempDir())
	ctx := context.Background()
	tid := s.Bootstrap.TenantID
	svc := s.Identity
	api, _, err := svc.CreateApplication(ctx, tid, "Accounts API", "api://accounts")
	if err != nil {
		t.Fatal(err)
	}
	api.Properties = identity.Properties{"api": json.RawMessage(`{"oauth2PermissionScopes":[{"id":"0c7e1a36-5b0f-4d53-8f0e-3a0f1b2c3d01",
		"value":"Accounts.Read","type":"User","isEnabled":true,"userConsentDisplayName":"Read your accounts"}]}`)}
	if err := svc.Directory().PutApplication(ctx, api); err != nil {
		t.Fatal(err)
	}
	const redirect = "https://webapp.test/getAToken"
	web, _, err := svc.CreateApplication(ctx, tid, "Web App")
	if err != nil {
		t.Fatal(err)
	}
	web.Properties = identity.Properties{"web": json.RawMessage(`{"redirectUris":["` + redirect + `"]}`)}
	if err := svc.Directory().PutApplication(ctx, web); err != nil {
		t.Fatal(err)
	}
	secret, _, err := svc.AddClientSecret(ctx, tid, web.AppID, "s", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	user, err := svc.CreateUser(ctx, tid, "bob@steward.test", "Bob", "Bob-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "testdata/msal_authcode.py", s.BaseURL, tid, web.AppID, secret, redirect,
		"api://accounts/Accounts.Read", "bob@steward.test", "Bob-Password-1")
	cmd.Env = append(cmd.Environ(), "REQUESTS_CA_BUNDLE="+s.CA.CACertPath)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("msal_authcode.py: %v\n%s", err, out)
	}
	var got struct {
		Error             string            `json:"error"`
		AccessToken       string            `json:"access_token"`
		IDTokenClaims     identity.IDClaims `json:"id_token_claims"`
		RefreshToken      string            `json:"refresh_token"`
		SilentAccessToken string            `json:"silent_access_token"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	if got.Error != "" {
		t.Fatal(got.Error)
	}
	if c := got.IDTokenClaims; c.ObjectID != user.ID || c.PreferredUsername != "bob@steward.test" || c.Nonce == "" ||
		!slices.Equal(c.AMR, []string{"pwd"}) || c.Audience != web.AppID {
		t.Errorf("id_token claims %+v", c)
	}
	p, err := s.Validator("api://accounts").Validate(ctx, got.AccessToken)
	if err != nil || p.ObjectID != user.ID || !slices.Equal(p.Scopes, []string{"Accounts.Read"}) || p.IdentityType != "user" {
		t.Errorf("API token: %+v %v", p, err)
	}
	p, err = s.Validator(ARMAudiences(s.BaseURL)...).Validate(ctx, got.SilentAccessToken)
	if err != nil || p.ObjectID != user.ID || !slices.Equal(p.Scopes, []string{"user_impersonation"}) {
		t.Errorf("ARM token from the refresh token: %+v %v", p, err)
	}
}
