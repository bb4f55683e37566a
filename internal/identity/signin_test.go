package identity

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// signinEnv is a token service on a loopback TLS server with a web app
// (confidential), a single-page app (public), an API exposing scopes and
// a user.
type signinEnv struct {
	svc       *Service
	clock     *fakeClock
	srv       *httptest.Server
	tenant    Tenant
	web       Application
	webSP     ServicePrincipal
	webSecret string
	spa       Application
	api       Application
	apiSP     ServicePrincipal
	user      User
}

const (
	webRedirect = "https://app.test/callback"
	spaRedirect = "https://spa.test/"
	userUPN     = "alice@contoso.test"
	userPass    = "Correct-Horse-9"
)

func newSigninEnv(t *testing.T) *signinEnv {
	t.Helper()
	ctx := context.Background()
	clock := &fakeClock{t: time.Now()}
	svc := NewService(NewMemRecords(), Options{Now: clock.Now})
	e := &signinEnv{svc: svc, clock: clock}
	e.srv = httptest.NewTLSServer(svc.Handler())
	t.Cleanup(e.srv.Close)
	var err error
	if e.tenant, err = svc.CreateTenant(ctx, "contoso", "contoso.test"); err != nil {
		t.Fatal(err)
	}
	props := func(kv ...string) Properties {
		p := Properties{}
		for i := 0; i < len(kv); i += 2 {
			p[kv[i]] = json.RawMessage(kv[i+1])
		}
		return p
	}
	e.api, e.apiSP, err = svc.CreateApplication(ctx, e.tenant.ID, "Accounts API", "api://accounts")
	if err != nil {
		t.Fatal(err)
	}
	e.api.Properties = props("api", `{"oauth2PermissionScopes":[
		{"id":"6b3a2a0e-3d1e-4e7a-9c55-0d1f8e7b1a01","value":"Accounts.Read","type":"User","isEnabled":true,"userConsentDisplayName":"Read your accounts"},
		{"id":"6b3a2a0e-3d1e-4e7a-9c55-0d1f8e7b1a02","value":"Accounts.Write","type":"Admin","isEnabled":true}]}`)
	if err := svc.Directory().PutApplication(ctx, e.api); err != nil {
		t.Fatal(err)
	}
	e.web, e.webSP, err = svc.CreateApplication(ctx, e.tenant.ID, "Web App")
	if err != nil {
		t.Fatal(err)
	}
	e.web.Properties = props("web", `{"redirectUris":["`+webRedirect+`"]}`)
	if err := svc.Directory().PutApplication(ctx, e.web); err != nil {
		t.Fatal(err)
	}
	if e.webSecret, _, err = svc.AddClientSecret(ctx, e.tenant.ID, e.web.AppID, "s", time.Hour); err != nil {
		t.Fatal(err)
	}
	e.spa, _, err = svc.CreateApplication(ctx, e.tenant.ID, "SPA")
	if err != nil {
		t.Fatal(err)
	}
	e.spa.Properties = props("spa", `{"redirectUris":["`+spaRedirect+`"]}`)
	if err := svc.Directory().PutApplication(ctx, e.spa); err != nil {
		t.Fatal(err)
	}
	if e.user, err = svc.CreateUser(ctx, e.tenant.ID, userUPN, "Alice Example", userPass); err != nil {
		t.Fatal(err)
	}
	e.user.Properties = props("mail", `"alice@contoso.test"`)
	if err := svc.Directory().PutUser(ctx, e.user); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *signinEnv) issuer() string { return e.srv.URL + "/" + e.tenant.ID + "/v2.0" }

func (e *signinEnv) authorizeURL(q url.Values) string {
	return e.srv.URL + "/" + e.tenant.ID + "/oauth2/v2.0/authorize?" + q.Encode()
}

// browser is a cookie-keeping client that stops at every redirect, as a
// test needs to see where the sign-in pages send it.
type browser struct {
	t *testing.T
	c *http.Client
}

func (e *signinEnv) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: e.srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: t, c: c}
}

type page struct {
	status   int
	body     string
	location string
	url      string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(body), location: resp.Header.Get("Location"), url: req.URL.String()}
}

func (b *browser) get(u string) page {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`)

// submit posts the form of p with the hidden fields and extra values.
func (b *browser) submit(p page, extra url.Values) page {
	b.t.Helper()
	form := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(p.body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	if form.Get("csrf") == "" {
		b.t.Fatalf("no form on the page (status %d): %.300s", p.status, p.body)
	}
	for k, v := range extra {
		form[k] = v
	}
	u, _ := url.Parse(p.url)
	u.RawQuery = ""
	req, _ := http.NewRequest(http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// signIn presents the user's credentials on the sign-in page p.
func (b *browser) signIn(p page, upn, pass string) page {
	b.t.Helper()
	if !strings.Contains(p.body, `name="passwd"`) {
		b.t.Fatalf("not the sign-in page (status %d, location %q): %.300s", p.status, p.location, p.body)
	}
	return b.submit(p, url.Values{"login": {upn}, "passwd": {pass}})
}

// redirectParams returns the query of a redirect to the client, failing
// when p is not one.
func redirectParams(t *testing.T, p page, prefix string) url.Values {
	t.Helper()
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, prefix) {
		t.Fatalf("want a redirect to %s, got %d %q: %.300s", prefix, p.status, p.location, p.body)
	}
	u, _ := url.Parse(p.location)
	return u.Query()
}

func TestSignInWithGoOIDCAndOAuth2(t *testing.T) {
	e := newSigninEnv(t)
	ctx := oidc.ClientContext(context.Background(), e.srv.Client())
	ctx = context.WithValue(ctx, oauth2.HTTPClient, e.srv.Client())
	provider, err := oidc.NewProvider(ctx, e.issuer())
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: e.web.AppID, ClientSecret: e.webSecret, Endpoint: provider.Endpoint(),
		RedirectURL: webRedirect, Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess, "api://accounts/Accounts.Read"}}
	verifier := oauth2.GenerateVerifier()
	b := e.browser(t)
	p := b.get(cfg.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n-1"), oauth2.SetAuthURLParam("login_hint", userUPN)))
	if p.status != 200 || !strings.Contains(p.body, `value="`+userUPN+`"`) {
		t.Fatalf("sign-in page without the login hint: %d %.300s", p.status, p.body)
	}
	p = b.signIn(p, userUPN, userPass)
	if !strings.Contains(p.body, "Read your accounts") {
		t.Fatalf("want the consent page for Accounts.Read, got %d: %.300s", p.status, p.body)
	}
	q := redirectParams(t, b.submit(p, url.Values{"accept": {"yes"}}), webRedirect)
	if q.Get("state") != "st-1" || q.Get("code") == "" {
		t.Fatalf("redirect params %v", q)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: e.web.AppID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatal(err)
	}
	var id IDClaims
	if err := idt.Claims(&id); err != nil {
		t.Fatal(err)
	}
	if id.Nonce != "n-1" || id.ObjectID != e.user.ID || id.TenantID != e.tenant.ID || id.Name != "Alice Example" ||
		id.PreferredUsername != userUPN || id.Email != "alice@contoso.test" || !slices.Equal(id.AMR, []string{"pwd"}) ||
		id.ACR != "1" || id.AuthTime == 0 || id.Version != "2.0" || id.Issuer != e.issuer() {
		t.Errorf("id_token claims %+v", id)
	}
	var at AccessClaims
	if err := unsafeClaims(tok.AccessToken, &at); err != nil {
		t.Fatal(err)
	}
	if at.Audience != "api://accounts" || at.Scope != "Accounts.Read" || at.IdentityType != "user" || at.ObjectID != e.user.ID ||
		at.AuthorizedParty != e.web.AppID || at.AuthorizedPartyAC != "1" || !slices.Equal(at.AMR, []string{"pwd"}) {
		t.Errorf("access token claims %+v", at)
	}
	v := &Validator{Keys: e.svc.Keys(), Issuer: func(tid string) string { return e.srv.URL + "/" + tid + "/v2.0" }, Audiences: []string{"api://accounts"}}
	pr, err := v.Validate(ctx, tok.AccessToken)
	if err != nil || !slices.Equal(pr.Scopes, []string{"Accounts.Read"}) || pr.AuthTime.IsZero() {
		t.Fatalf("validate: %+v %v", pr, err)
	}

	// The refresh token is rotated: the new one works, the old one is spent.
	old := tok.RefreshToken
	next, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: old, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if next.RefreshToken == "" || next.RefreshToken == old || next.AccessToken == "" {
		t.Fatalf("refresh: %+v", next)
	}
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: old, Expiry: time.Now().Add(-time.Hour)}).Token()
	if !isOAuth(err, "invalid_grant") {
		t.Fatalf("reusing a rotated refresh token: %v", err)
	}

	// Single sign-on: the session signs in again without a page, and
	// prompt=none too; prompt=login and max_age=0 show the page again.
	p = b.get(cfg.AuthCodeURL("st-2", oauth2.S256ChallengeOption(verifier)))
	redirectParams(t, p, webRedirect)
	p = b.get(cfg.AuthCodeURL("st-3", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")))
	if q := redirectParams(t, p, webRedirect); q.Get("code") == "" {
		t.Fatalf("prompt=none with a session: %v", q)
	}
	for _, opt := range []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0")} {
		if p := b.get(cfg.AuthCodeURL("st-4", opt)); p.status != 200 || !strings.Contains(p.body, `name="passwd"`) {
			t.Errorf("want the sign-in page, got %d %q", p.status, p.location)
		}
	}

	// Logout ends the session: prompt=none now fails with login_required.
	p = b.get(e.srv.URL + "/" + e.tenant.ID + "/oauth2/v2.0/logout?post_logout_redirect_uri=" + url.QueryEscape(webRedirect) + "&client_id=" + e.web.AppID)
	redirectParams(t, p, webRedirect)
	p = b.get(cfg.AuthCodeURL("st-5", oauth2.SetAuthURLParam("prompt", "none")))
	if q := redirectParams(t, p, webRedirect); q.Get("error") != "login_required" || q.Get("state") != "st-5" ||
		!strings.Contains(q.Get("error_description"), "AADSTS50058") {
		t.Fatalf("prompt=none after logout: %v", q)
	}
}

func isOAuth(err error, code string) bool {
	var re *oauth2.RetrieveError
	if err == nil {
		return false
	}
	if e, ok := err.(*oauth2.RetrieveError); ok {
		re = e
	}
	return re != nil && re.ErrorCode == code
}

func TestSignInUserInfo(t *testing.T) {
	e := newSigninEnv(t)
	ctx := oidc.ClientContext(context.Background(), e.srv.Client())
	ctx = context.WithValue(ctx, oauth2.HTTPClient, e.srv.Client())
	provider, err := oidc.NewProvider(ctx, e.issuer())
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: e.web.AppID, ClientSecret: e.webSecret, Endpoint: provider.Endpoint(),
		RedirectURL: webRedirect, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	b := e.browser(t)
	q := redirectParams(t, b.signIn(b.get(cfg.AuthCodeURL("s")), userUPN, userPass), webRedirect)
	tok, err := cfg.Exchange(ctx, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" {
		t.Error("a refresh token without offline_access")
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	if info.Email != "alice@contoso.test" || info.Subject == "" {
		t.Errorf("userinfo %+v", info)
	}
	// The access token of another resource is refused.
	bad := *tok
	bad.AccessToken = "x.y.z"
	if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(&bad)); err == nil {
		t.Error("userinfo accepted a bad token")
	}
}

func TestSignInPublicClientWithPKCE(t *testing.T) {
	e := newSigninEnv(t)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.srv.Client())
	cfg := oauth2.Config{ClientID: e.spa.AppID, RedirectURL: spaRedirect, Scopes: []string{"openid", "offline_access", "https://management.azure.com/user_impersonation"},
		Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + "/contoso.test/oauth2/v2.0/authorize", TokenURL: e.srv.URL + "/contoso.test/oauth2/v2.0/token",
			AuthStyle: oauth2.AuthStyleInParams}}
	b := e.browser(t)
	// Without PKCE the public client is refused at its redirect URI.
	q := redirectParams(t, b.get(cfg.AuthCodeURL("s0")), spaRedirect)
	if q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "AADSTS9002325") {
		t.Fatalf("public client without PKCE: %v", q)
	}
	verifier := oauth2.GenerateVerifier()
	q = redirectParams(t, b.signIn(b.get(cfg.AuthCodeURL("s1", oauth2.S256ChallengeOption(verifier))), userUPN, userPass), spaRedirect)
	// A wrong verifier is refused (and spends nothing: PKCE is checked first).
	if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); !isOAuth(err, "invalid_grant") ||
		!strings.Contains(err.Error(), "50148") {
		t.Fatalf("wrong verifier: %v", err)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	var at AccessClaims
	if err := unsafeClaims(tok.AccessToken, &at); err != nil {
		t.Fatal(err)
	}
	if at.Audience != "https://management.azure.com" || at.Scope != "user_impersonation" || at.AuthorizedPartyAC != "0" {
		t.Errorf("access token %+v", at)
	}
	if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); !isOAuth(err, "invalid_grant") ||
		!strings.Contains(err.Error(), "54005") {
		t.Fatalf("second redemption: %v", err)
	}
}

func TestSignInRefusals(t *testing.T) {
	e := newSigninEnv(t)
	base := func() url.Values {
		return url.Values{"client_id": {e.web.AppID}, "redirect_uri": {webRedirect}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"st"}}
	}
	with := func(k, v string) url.Values {
		q := base()
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q
	}
	pageCases := []struct {
		name   string
		q      url.Values
		aadsts string
	}{
		{"unknown client", with("client_id", "0f0e0d0c-0000-4000-8000-000000000000"), "AADSTS700016"},
		{"no client", with("client_id", ""), "AADSTS900144"},
		{"redirect not registered", with("redirect_uri", "https://evil.test/cb"), "AADSTS50011"},
		{"no redirect", with("redirect_uri", ""), "AADSTS900144"},
	}
	b := e.browser(t)
	for _, c := range pageCases {
		t.Run(c.name, func(t *testing.T) {
			p := b.get(e.authorizeURL(c.q))
			if p.status != 400 || p.location != "" || !strings.Contains(p.body, c.aadsts) {
				t.Fatalf("want a 400 page with %s, got %d %q %.200s", c.aadsts, p.status, p.location, p.body)
			}
		})
	}
	redirectCases := []struct {
		name, q, v, errCode, aadsts string
	}{
		{"implicit flow", "response_type", "token", "unsupported_response_type", ""},
		{"plain PKCE", "code_challenge_method", "plain", "invalid_request", "AADSTS9002325"},
		{"bad prompt", "prompt", "sometimes", "invalid_request", ""},
		{"bad max_age", "max_age", "-3", "invalid_request", ""},
		{"bad claims", "claims", "{not json", "invalid_request", ""},
		{"admin scope without consent", "scope", "openid api://accounts/Accounts.Write", "", ""},
		{"unknown scope", "scope", "openid api://accounts/Accounts.Delete", "invalid_scope", "AADSTS650053"},
		{"two resources", "scope", "api://accounts/Accounts.Read https://vault.azure.net/user_impersonation", "invalid_scope", ""},
		{"silent without session", "prompt", "none", "login_required", "AADSTS50058"},
	}
	for _, c := range redirectCases {
		t.Run(c.name, func(t *testing.T) {
			q := with(c.q, c.v)
			if c.q == "code_challenge_method" {
				q.Set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
			}
			b := e.browser(t)
			p := b.get(e.authorizeURL(q))
			if c.errCode == "" { // needs a signed-in user to be decided
				p = b.signIn(p, userUPN, userPass)
				c.errCode, c.aadsts = "consent_required", "AADSTS90094"
			}
			got := redirectParams(t, p, webRedirect)
			if got.Get("error") != c.errCode || got.Get("state") != "st" || !strings.Contains(got.Get("error_description"), c.aadsts) {
				t.Fatalf("got %v", got)
			}
		})
	}
}

func TestSignInPasswordLockoutAndCSRF(t *testing.T) {
	e := newSigninEnv(t)
	b := e.browser(t)
	q := url.Values{"client_id": {e.web.AppID}, "redirect_uri": {webRedirect}, "response_type": {"code"}, "scope": {"openid"}}
	p := b.get(e.authorizeURL(q))
	// A form posted without the CSRF cookie (another site's form) is refused.
	other := e.browser(t)
	if r := other.submit(p, url.Values{"login": {userUPN}, "passwd": {userPass}}); r.status != http.StatusForbidden {
		t.Fatalf("cross-site post: %d", r.status)
	}
	for i := 0; i < lockoutThreshold; i++ {
		p = b.signIn(p, userUPN, "wrong")
		if p.status != 200 || !strings.Contains(p.body, "incorrect") {
			t.Fatalf("attempt %d: %d %.200s", i, p.status, p.body)
		}
	}
	// Locked: even the right password is refused for now.
	if p = b.signIn(p, userUPN, userPass); p.status != http.StatusTooManyRequests {
		t.Fatalf("after %d failures: %d", lockoutThreshold, p.status)
	}
	if h := p.body; strings.Contains(h, userPass) {
		t.Fatal("the password is echoed")
	}
}

func TestSignInRevocation(t *testing.T) {
	e := newSigninEnv(t)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.srv.Client())
	cfg := oauth2.Config{ClientID: e.web.AppID, ClientSecret: e.webSecret, RedirectURL: webRedirect, Scopes: []string{"openid", "offline_access"},
		Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + "/" + e.tenant.ID + "/oauth2/v2.0/authorize", TokenURL: e.srv.URL + "/" + e.tenant.ID + "/oauth2/v2.0/token"}}
	b := e.browser(t)
	q := redirectParams(t, b.signIn(b.get(cfg.AuthCodeURL("s")), userUPN, userPass), webRedirect)
	// Without the secret a web app cannot redeem.
	noSecret := cfg
	noSecret.ClientSecret = ""
	noSecret.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	if _, err := noSecret.Exchange(ctx, q.Get("code")); !isOAuth(err, "invalid_client") {
		t.Fatalf("confidential client without secret: %v", err)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := e.svc.Directory().User(context.Background(), e.tenant.ID, e.user.ID)
	u.SignInSessionsValidFrom = time.Now().Add(time.Second)
	if err := e.svc.Directory().PutUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
	if !isOAuth(err, "invalid_grant") || !strings.Contains(err.Error(), "50173") {
		t.Fatalf("refresh after revocation: %v", err)
	}
	// The browser session is gone too: the sign-in page is shown again.
	if p := b.get(cfg.AuthCodeURL("s2")); p.status != 200 || !strings.Contains(p.body, `name="passwd"`) {
		t.Fatalf("after revocation: %d %q", p.status, p.location)
	}
}

func TestPruneSignIns(t *testing.T) {
	e := newSigninEnv(t)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.srv.Client())
	cfg := oauth2.Config{ClientID: e.web.AppID, ClientSecret: e.webSecret, RedirectURL: webRedirect, Scopes: []string{"openid", "offline_access"},
		Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + "/" + e.tenant.ID + "/oauth2/v2.0/authorize", TokenURL: e.srv.URL + "/" + e.tenant.ID + "/oauth2/v2.0/token"}}
	b := e.browser(t)
	q := redirectParams(t, b.signIn(b.get(cfg.AuthCodeURL("s")), userUPN, userPass), webRedirect)
	tok, err := cfg.Exchange(ctx, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	unused := redirectParams(t, b.get(cfg.AuthCodeURL("s2")), webRedirect).Get("code")
	// Nothing has expired yet: nothing is pruned.
	if n, err := e.svc.PruneSignIns(context.Background()); err != nil || n != 0 {
		t.Fatalf("prune before expiry: %d %v", n, err)
	}
	// After 11 minutes the unused code and the mark of the redeemed one go (a
	// redeemed code itself is deleted when redeemed); the session (24h)
	// and the refresh token (90 days) stay.
	e.clock.Add(11 * time.Minute)
	if n, err := e.svc.PruneSignIns(context.Background()); err != nil || n != 2 {
		t.Fatalf("prune after the codes expired: %d %v (want the unused code and the redeemed one's mark)", n, err)
	}
	if _, err := cfg.Exchange(ctx, unused); !isOAuth(err, "invalid_grant") {
		t.Fatalf("a pruned code: %v", err)
	}
	e.clock.Add(91 * 24 * time.Hour)
	if n, err := e.svc.PruneSignIns(context.Background()); err != nil || n != 2 {
		t.Fatalf("prune after 91 days: %d %v (want the session and the refresh token)", n, err)
	}
	e.clock.Set(time.Now())
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
	if !isOAuth(err, "invalid_grant") {
		t.Fatalf("a pruned refresh token: %v", err)
	}
}
