package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"
)

// b2cEnv is signinEnv with the sample's user flows.
type b2cEnv struct {
	*signinEnv
	ctx context.Context
}

func newB2CEnv(t *testing.T) *b2cEnv {
	e := &b2cEnv{signinEnv: newSigninEnv(t), ctx: context.Background()}
	for _, f := range []UserFlow{
		{ID: "susi", UserFlowType: UserFlowSignUpOrSignIn},
		{ID: "B2C_1_susi_mfa", UserFlowType: UserFlowSignUpOrSignIn, MultifactorAuthentication: MFAAlways},
		{ID: "profile", UserFlowType: UserFlowProfileUpdate},
		{ID: "reset", UserFlowType: UserFlowPasswordReset},
	} {
		if _, err := e.svc.CreateUserFlow(e.ctx, e.tenant.ID, f); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// grantAdminConsent grants the web app the API's scopes for all users.
func (e *b2cEnv) grantAdminConsent(t *testing.T) {
	if err := e.svc.Directory().PutGrant(e.ctx, OAuth2PermissionGrant{ID: "g1", TenantID: e.tenant.ID, ClientID: e.webSP.ID,
		ConsentType: "AllPrincipals", ResourceID: e.apiSP.ID, Scope: "Accounts.Read Accounts.Write"}); err != nil {
		t.Fatal(err)
	}
}

func (e *b2cEnv) flowURL(policy string) string { return e.srv.URL + "/contoso.test/" + policy }

func (e *b2cEnv) oauth(policy string) *oauth2.Config {
	return &oauth2.Config{ClientID: e.web.AppID, ClientSecret: e.webSecret, RedirectURL: webRedirect,
		Scopes:   []string{"openid", "offline_access", "api://accounts/Accounts.Read"},
		Endpoint: oauth2.Endpoint{AuthURL: e.flowURL(policy) + "/oauth2/v2.0/authorize", TokenURL: e.flowURL(policy) + "/oauth2/v2.0/token"}}
}

func (e *b2cEnv) client() context.Context {
	return context.WithValue(e.ctx, oauth2.HTTPClient, e.srv.Client())
}

func TestB2CUserFlowDiscovery(t *testing.T) {
	e := newB2CEnv(t)
	c := e.srv.Client()
	resp, err := c.Get(e.flowURL("B2C_1_SUSI") + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc B2CConfiguration
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || doc.Issuer != e.srv.URL+"/"+e.tenant.ID+"/v2.0/" ||
		doc.AuthorizationEndpoint != e.flowURL("b2c_1_susi")+"/oauth2/v2.0/authorize" ||
		doc.JWKSURI != e.flowURL("b2c_1_susi")+"/discovery/v2.0/keys" {
		t.Fatalf("discovery %d: %+v", resp.StatusCode, doc)
	}
	resp, err = c.Get(doc.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	var keys struct {
		Keys []map[string]any `json:"keys"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&keys)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(keys.Keys) == 0 || keys.Keys[0]["use"] != "sig" {
		t.Fatalf("keys %d: %v", resp.StatusCode, keys)
	}
	for _, p := range []string{"/B2C_1_nope/v2.0/.well-known/openid-configuration", "/B2C_1_nope/discovery/v2.0/keys"} {
		resp, err := c.Get(e.srv.URL + "/contoso.test" + p)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(body["error_description"].(string), "AADB2C") {
			t.Errorf("%s: %d %v", p, resp.StatusCode, body)
		}
	}
	for p, want := range map[string]bool{
		"/contoso.test/B2C_1_susi/oauth2/v2.0/token":                        true,
		"/contoso.test/b2c_1a_custom/v2.0/.well-known/openid-configuration": true,
		"/contoso.test/other/oauth2/v2.0/token":                             false,
		"/contoso.test/B2C_1_susi/openid/userinfo":                          false,
	} {
		if Matches(p) != want {
			t.Errorf("Matches(%s) = %v", p, !want)
		}
	}
	if _, err := e.svc.CreateUserFlow(e.ctx, e.tenant.ID, UserFlow{ID: "susi", UserFlowType: UserFlowSignIn}); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate flow: %v", err)
	}
	for _, bad := range []UserFlow{{ID: "x y", UserFlowType: UserFlowSignIn}, {ID: "x", UserFlowType: "resourceOwner"},
		{ID: "x", UserFlowType: UserFlowSignIn, MultifactorAuthentication: "sometimes"}, {ID: "x"}} {
		if _, err := e.svc.CreateUserFlow(e.ctx, e.tenant.ID, bad); !errors.Is(err, ErrInvalidUserFlow) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// b2cSignIn runs a sign-in through policy up to the redirect with a code.
func (e *b2cEnv) b2cSignIn(t *testing.T, b *browser, policy string) url.Values {
	t.Helper()
	cfg := e.oauth(policy)
	p := b.get(cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("nonce", "n1")))
	if strings.Contains(p.body, `name="passwd"`) {
		p = b.signIn(p, userUPN, userPass)
	}
	return redirectParams(t, p, webRedirect)
}

func TestB2CSignInTokens(t *testing.T) {
	e := newB2CEnv(t)
	b := e.browser(t)
	// Without admin consent B2C refuses (no user consent page).
	q := e.b2cSignIn(t, b, "B2C_1_susi")
	if q.Get("error") != "unauthorized_client" || !strings.HasPrefix(q.Get("error_description"), "AADB2C90205") {
		t.Fatalf("without consent: %v", q)
	}
	e.grantAdminConsent(t)
	q = e.b2cSignIn(t, b, "B2C_1_susi")
	cfg := e.oauth("B2C_1_susi")
	// A code redeemed at another flow's token endpoint is refused.
	other := e.oauth("B2C_1_susi_mfa")
	if _, err := other.Exchange(e.client(), q.Get("code")); err == nil || !strings.Contains(err.Error(), "AADB2C90088") {
		t.Fatalf("code at another flow: %v", err)
	}
	q = e.b2cSignIn(t, b, "B2C_1_susi")
	tok, err := cfg.Exchange(e.client(), q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	var at, id B2CClaims
	if err := unsafeClaims(tok.AccessToken, &at); err != nil {
		t.Fatal(err)
	}
	if err := unsafeClaims(tok.Extra("id_token").(string), &id); err != nil {
		t.Fatal(err)
	}
	iss := e.srv.URL + "/" + e.tenant.ID + "/v2.0/"
	if at.Audience != e.api.AppID || at.Scope != "Accounts.Read" || at.Policy != "B2C_1_susi" || at.Issuer != iss ||
		at.Subject != e.user.ID || at.ObjectID != e.user.ID || at.AZP != e.web.AppID || at.Version != "1.0" ||
		len(at.Emails) != 1 || at.Emails[0] != userUPN {
		t.Errorf("access token: %+v", at)
	}
	if id.Audience != e.web.AppID || id.Nonce != "n1" || id.Policy != "B2C_1_susi" || id.Name != "Alice Example" || id.Scope != "" {
		t.Errorf("id_token: %+v", id)
	}
	ci, _ := base64.RawURLEncoding.DecodeString(tok.Extra("client_info").(string))
	if !strings.Contains(string(ci), e.user.ID+"-b2c_1_susi") {
		t.Errorf("client_info %s", ci)
	}
	// The refresh token goes on at the same flow only.
	if _, err := other.TokenSource(e.client(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("refresh token redeemed at another flow")
	}
	q = e.b2cSignIn(t, b, "B2C_1_susi")
	tok, _ = cfg.Exchange(e.client(), q.Get("code"))
	next, err := cfg.TokenSource(e.client(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || next.AccessToken == "" {
		t.Fatalf("refresh: %v", err)
	}
	// Forgot password: AADB2C90118 to the app.
	b2 := e.browser(t)
	p := b2.get(cfg.AuthCodeURL("st2"))
	q = redirectParams(t, b2.submit(p, url.Values{"action": {"forgot"}}), webRedirect)
	if q.Get("error") != "access_denied" || !strings.HasPrefix(q.Get("error_description"), "AADB2C90118: ") || q.Get("state") != "st2" {
		t.Fatalf("forgot password: %v", q)
	}
}

func TestB2CMFAProfileAndPasswordReset(t *testing.T) {
	e := newB2CEnv(t)
	e.grantAdminConsent(t)
	enr, _, err := e.svc.EnrollTOTP(e.ctx, e.tenant.ID, e.user)
	if err != nil {
		t.Fatal(err)
	}
	codeAt := func(d time.Duration) string {
		e.clock.Add(d)
		c, err := totp.GenerateCode(enr.Secret, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	b := e.browser(t)
	// The flow without MFA does not ask an enrolled user for a code.
	e.b2cSignIn(t, b, "B2C_1_susi")
	// The MFA flow does, once in the session.
	p := b.get(e.oauth("B2C_1_susi_mfa").AuthCodeURL("st"))
	if !strings.Contains(p.body, `value="mfa"`) {
		t.Fatalf("MFA flow: no code page: %.500s", p.body)
	}
	redirectParams(t, b.submit(p, url.Values{"otc": {codeAt(time.Minute)}}), webRedirect)

	// Profile edit: the new display name is the name claim.
	p = b.get(e.oauth("B2C_1_profile").AuthCodeURL("st"))
	if !strings.Contains(p.body, `name="displayName"`) {
		t.Fatalf("profile page: %.500s", p.body)
	}
	q := redirectParams(t, b.submit(p, url.Values{"action": {"profile"}, "displayName": {"Alice B. Example"}}), webRedirect)
	tok, err := e.oauth("B2C_1_profile").Exchange(e.client(), q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	var id B2CClaims
	_ = unsafeClaims(tok.Extra("id_token").(string), &id)
	if id.Name != "Alice B. Example" || id.Policy != "B2C_1_profile" {
		t.Errorf("after profile edit: %+v", id)
	}

	// The flow's assigned attributes are on the page, with the user's
	// values; the new values are in the user and the next tokens, an
	// optional one left empty is removed, a required one is asked for.
	for _, a := range []UserFlowAttribute{{ID: "city"}, {ID: "postalCode", IsOptional: true}} {
		if _, err := e.svc.AddUserFlowAttribute(e.ctx, e.tenant.ID, "B2C_1_profile", a); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.RemoveUserFlowAttribute(e.ctx, e.tenant.ID, "B2C_1_profile", "surname"); err != nil {
		t.Fatal(err)
	}
	p = b.get(e.oauth("B2C_1_profile").AuthCodeURL("st"))
	for _, want := range []string{`name="displayName" type="text" autocomplete="name" maxlength="256" required value="Alice B. Example"`,
		`<label for="city">City</label>`, `name="city" type="text" autocomplete="address-level2" maxlength="128" required value=""`,
		`<label for="postalCode">Postal Code (optional)</label>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the profile page lacks %q: %.1500s", want, p.body)
		}
	}
	if strings.Contains(p.body, `name="surname"`) {
		t.Errorf("the profile page has an attribute the flow does not: %.1500s", p.body)
	}
	p = b.submit(p, url.Values{"action": {"profile"}, "city": {"  "}, "postalCode": {"1000-001"}})
	if !strings.Contains(p.body, "City: this information is required.") || !strings.Contains(p.body, `value="1000-001"`) {
		t.Fatalf("the profile without its required city: %.1500s", p.body)
	}
	q = redirectParams(t, b.submit(p, url.Values{"action": {"profile"}, "city": {"Lisbon"}, "postalCode": {"1000-001"}}), webRedirect)
	if tok, err = e.oauth("B2C_1_profile").Exchange(e.client(), q.Get("code")); err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{}
	_ = unsafeClaims(tok.Extra("id_token").(string), &claims)
	if claims["city"] != "Lisbon" || claims["postalCode"] != "1000-001" || claims["name"] != "Alice B. Example" {
		t.Errorf("the id_token after the profile edit: %v", claims)
	}
	p = b.get(e.oauth("B2C_1_profile").AuthCodeURL("st"))
	redirectParams(t, b.submit(p, url.Values{"action": {"profile"}, "city": {"Porto"}, "postalCode": {""}}), webRedirect)
	if u, err := e.svc.Directory().User(e.ctx, e.tenant.ID, e.user.ID); err != nil || userString(u, "city") != "Porto" ||
		u.Properties["postalCode"] != nil || u.DisplayName != "Alice B. Example" {
		t.Errorf("the user after clearing the postal code: %+v %v", u, err)
	}

	// Password reset: the authenticator's code proves the account.
	b2 := e.browser(t)
	reset := e.oauth("B2C_1_reset")
	p = b2.get(reset.AuthCodeURL("st"))
	p = b2.submit(p, url.Values{"action": {"reset"}, "login": {userUPN}, "otc": {"000000"}, "newPassword": {"New-Password-77"}})
	if !strings.Contains(p.body, "That code didn") {
		t.Fatalf("wrong code: %d %.500s", p.status, p.body)
	}
	// An unknown account gets the same answer as a wrong code.
	unknown := b2.submit(p, url.Values{"action": {"reset"}, "login": {"nobody@contoso.test"}, "otc": {"000000"}, "newPassword": {"New-Password-77"}})
	if !strings.Contains(unknown.body, "That code didn") {
		t.Fatalf("unknown account: %d %.500s", unknown.status, unknown.body)
	}
	p = b2.submit(unknown, url.Values{"action": {"reset"}, "login": {userUPN}, "otc": {codeAt(time.Minute)}, "newPassword": {"New-Password-77"}})
	redirectParams(t, p, webRedirect)
	if _, err := e.svc.AuthenticateUser(e.ctx, e.tenant.ID, userUPN, userPass); !ErrBadCredentials(err) {
		t.Errorf("old password still works: %v", err)
	}
	if _, err := e.svc.AuthenticateUser(e.ctx, e.tenant.ID, userUPN, "New-Password-77"); err != nil {
		t.Errorf("new password: %v", err)
	}
	// The sessions before the reset are gone.
	p = b.get(e.oauth("B2C_1_susi").AuthCodeURL("st"))
	if !strings.Contains(p.body, `name="passwd"`) {
		t.Errorf("a session from before the reset signed in: %d %q", p.status, p.location)
	}
	// Cancel on the reset page: AADB2C90091.
	p = b2.get(reset.AuthCodeURL("st3"))
	q = redirectParams(t, b2.submit(p, url.Values{"action": {"cancel"}}), webRedirect)
	if !strings.HasPrefix(q.Get("error_description"), "AADB2C90091") {
		t.Errorf("cancel: %v", q)
	}
}

// An account whose identities name an email address (as an administrator
// creates it through Graph) signs in to a user flow with that address,
// and the sign-up page will not give the address to anyone else.
func TestB2CSignInWithAnAdministratorsEmailIdentity(t *testing.T) {
	e := newB2CEnv(t)
	e.grantAdminConsent(t)
	const addr = "alice.home@example.test"
	b := e.browser(t)
	cfg := e.oauth("B2C_1_susi")
	// Before the identity, the address is no one's.
	p := b.signIn(b.get(cfg.AuthCodeURL("st")), addr, userPass)
	if p.status == http.StatusFound {
		t.Fatalf("an unknown address signed in: %s", p.location)
	}
	u := e.user
	u.Properties = Properties{"identities": json.RawMessage(`[{"signInType":"emailAddress","issuer":"contoso.test","issuerAssignedId":"` + addr + `"}]`)}
	if err := e.svc.Directory().PutUser(e.ctx, u); err != nil {
		t.Fatal(err)
	}
	p = b.signIn(b.get(cfg.AuthCodeURL("st")), "ALICE.home@example.test", userPass)
	tok, err := cfg.Exchange(e.client(), redirectParams(t, p, webRedirect).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	var at B2CClaims
	if err := unsafeClaims(tok.AccessToken, &at); err != nil || at.ObjectID != e.user.ID || !slices.Contains(at.Emails, addr) {
		t.Fatalf("access token: %+v %v", at, err)
	}
	if _, err := e.svc.CreateLocalAccount(e.ctx, e.tenant.ID, LocalAccount{Email: addr, Password: "Other-Pass-1"}); !errors.Is(err, ErrExists) {
		t.Fatalf("a sign-up with the address: %v", err)
	}
}
