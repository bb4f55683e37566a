package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"
)

var optionsRE = regexp.MustCompile(`data-options="([^"]*)"`)

// pageOptions returns the navigator.credentials options of page p.
func pageOptions(t *testing.T, p page) string {
	t.Helper()
	m := optionsRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no security-key form on the page (%d): %.600s", p.status, p.body)
	}
	return html.UnescapeString(m[1])
}

// keyEnv is a signinEnv whose authority has a host name (a WebAuthn RP
// ID), with a software key for the user.
func keyEnv(t *testing.T) (*signinEnv, *softKey) {
	e := newSigninEnv(t)
	e.svc.opts.AuthorityHost = "https://login.steward.test/"
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return e, &softKey{t: t, key: priv, id: []byte("soft-passkey-1"), origin: "https://login.steward.test"}
}

func (e *signinEnv) securityInfoURL() string {
	return e.srv.URL + "/" + e.tenant.ID + "/" + SecurityInfoPath
}

func TestSecurityInfoAddsAKeyBesideTheApp(t *testing.T) {
	e, k := keyEnv(t)
	enr, _, err := e.svc.EnrollTOTP(context.Background(), e.tenant.ID, e.user)
	if err != nil {
		t.Fatal(err)
	}
	code := func() string {
		e.clock.Add(time.Minute)
		c, _ := totp.GenerateCode(enr.Secret, e.clock.Now())
		return c
	}
	b := e.browser(t)
	// The page signs the user in: the password, then the app's code.
	p := b.signIn(b.get(e.securityInfoURL()), userUPN, userPass)
	if !strings.Contains(p.body, `value="mfa"`) || strings.Contains(p.body, `id="methods"`) {
		t.Fatalf("a password alone reached the security info: %.600s", p.body)
	}
	// Adding a key needs the second factor: a post without it gets the code page.
	if r := b.submit(p, url.Values{"action": {"addkey"}}); !strings.Contains(r.body, `value="mfa"`) || optionsRE.MatchString(r.body) {
		t.Fatalf("addkey before the second factor: %.600s", r.body)
	} else {
		p = r
	}
	p = b.submit(p, url.Values{"otc": {code()}})
	if !strings.Contains(p.body, `id="methods"`) || !strings.Contains(p.body, "Authenticator app") {
		t.Fatalf("security info after the code: %.600s", p.body)
	}
	p = b.submit(p, url.Values{"action": {"addkey"}})
	opts := pageOptions(t, p)
	if !strings.Contains(opts, `"residentKey":"preferred"`) {
		t.Errorf("registration options do not ask for a discoverable credential: %s", opts)
	}
	p = b.submit(p, url.Values{"credential": {k.create(opts)}})
	if !strings.Contains(p.body, "Security key added.") {
		t.Fatalf("key registration: %.600s", p.body)
	}
	app, keys, err := e.svc.SecondFactors(context.Background(), e.tenant.ID, e.user.ID)
	if err != nil || !app || len(keys) != 1 || keys[0].ID != b64(k.id) {
		t.Fatalf("factors after adding the key: app %v keys %+v %v", app, keys, err)
	}
	// Both work at the next sign-in: the app's code still does.
	if err := e.svc.VerifySecondFactor(context.Background(), e.tenant.ID, e.user.ID, code()); err != nil {
		t.Errorf("the app after adding a key: %v", err)
	}
	// Ten minutes later the second factor is stale: the page asks again
	// before anything is added, and offers the key.
	e.clock.Add(mfaFreshness + time.Second)
	p = b.get(e.securityInfoURL())
	if !strings.Contains(p.body, `value="mfa"`) || !strings.Contains(p.body, `data-ceremony="login"`) {
		t.Fatalf("a stale second factor reached the security info: %.600s", p.body)
	}
	k.count = 1
	p = b.submit(p, url.Values{"action": {"webauthn"}, "credential": {k.get(pageOptions(t, p), e.user.ID)}})
	if !strings.Contains(p.body, `id="methods"`) {
		t.Fatalf("the key as the second factor: %.600s", p.body)
	}
}

func TestSecurityInfoAddsTheAppBesideAKeyAndPasswordlessSignIn(t *testing.T) {
	e, k := keyEnv(t)
	b := e.browser(t)
	// A user without a second factor registers a key first (recovery codes).
	p := b.signIn(b.get(e.securityInfoURL()), userUPN, userPass)
	if !strings.Contains(p.body, "No second factor yet") {
		t.Fatalf("security info without a factor: %.600s", p.body)
	}
	p = b.submit(p, url.Values{"action": {"addkey"}})
	p = b.submit(p, url.Values{"credential": {k.create(pageOptions(t, p))}})
	if !strings.Contains(p.body, `id="recovery"`) {
		t.Fatalf("the first key: %.600s", p.body)
	}
	p = b.submit(p, url.Values{"action": {"continue"}})
	// The app beside the key: the QR page, then a code; the key's recovery
	// codes stay (none are shown again).
	p = b.submit(p, url.Values{"action": {"addapp"}})
	m := secretRE.FindStringSubmatch(p.body)
	if m == nil || optionsRE.MatchString(p.body) {
		t.Fatalf("the app's enrolment page: %.600s", p.body)
	}
	c, _ := totp.GenerateCode(strings.ReplaceAll(m[1], " ", ""), e.clock.Now())
	p = b.submit(p, url.Values{"otc": {c}})
	if !strings.Contains(p.body, "Authenticator app added.") {
		t.Fatalf("adding the app: %.600s", p.body)
	}
	if app, keys, err := e.svc.SecondFactors(context.Background(), e.tenant.ID, e.user.ID); err != nil || !app || len(keys) != 1 {
		t.Fatalf("factors: app %v keys %d %v", app, len(keys), err)
	}
	// A registration over the factors from the sign-in pages (no fresh
	// second factor on this page) is still refused.
	if _, err := e.svc.BeginTOTP(context.Background(), e.tenant.ID, e.user); err != ErrMFAEnrolled {
		t.Errorf("a second app from the sign-in pages: %v", err)
	}

	// Passwordless: the key alone signs in, with user verification.
	f := &mfaFlow{e: e, ctx: context.WithValue(context.Background(), oauth2.HTTPClient, e.srv.Client()),
		cfg: oauth2.Config{ClientID: e.web.AppID, ClientSecret: e.webSecret, RedirectURL: webRedirect, Scopes: []string{"openid"},
			Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + "/" + e.tenant.ID + "/oauth2/v2.0/authorize",
				TokenURL: e.srv.URL + "/" + e.tenant.ID + "/oauth2/v2.0/token"}}}
	b2 := e.browser(t)
	p = b2.get(f.cfg.AuthCodeURL("st"))
	if !strings.Contains(p.body, `id="passkey"`) {
		t.Fatalf("no passwordless sign-in offered: %.600s", p.body)
	}
	start := b2.submit(p, url.Values{"action": {"passkey-start"}})
	opts := pageOptions(t, start)
	if strings.Contains(opts, "allowCredentials") || !strings.Contains(opts, `"userVerification":"required"`) {
		t.Errorf("passwordless options: %s", opts)
	}
	// Without user verification (presence only) the key is refused.
	k.count = 2
	noUV := &softKey{t: t, key: k.key, id: k.id, count: 2, origin: k.origin, flags: 0x01}
	p = b2.submit(start, url.Values{"credential": {noUV.get(opts, e.user.ID)}})
	if !strings.Contains(p.body, "was not accepted") {
		t.Fatalf("passwordless without user verification: %d %.600s", p.status, p.body)
	}
	start = b2.submit(p, url.Values{"action": {"passkey-start"}})
	k.count = 3
	answer := k.get(pageOptions(t, start), e.user.ID)
	claims := f.idClaims(t, b2.submit(start, url.Values{"credential": {answer}}))
	if claims.ObjectID != e.user.ID || !slices.Equal(claims.AMR, []string{"fido", "mfa"}) {
		t.Fatalf("passwordless id_token: oid %s amr %v", claims.ObjectID, claims.AMR)
	}
	// The ceremony is spent: the same answer again is refused.
	p = b2.get(f.cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("prompt", "login")))
	p = b2.submit(p, url.Values{"action": {"passkey"}, "credential": {answer}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "was not accepted") {
		t.Fatalf("a replayed passwordless answer: %d %.600s", p.status, p.body)
	}
}

// addApp adds an authenticator app named name from the security-info
// page p and returns the page after it and the app's secret.
func addApp(t *testing.T, b *browser, p page, name string, now time.Time) (page, string) {
	t.Helper()
	p = b.submit(p, url.Values{"action": {"addapp"}, "appName": {name}})
	m := secretRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("adding %q: %.600s", name, p.body)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	c, _ := totp.GenerateCode(secret, now)
	p = b.submit(p, url.Values{"otc": {c}})
	if !strings.Contains(p.body, "Authenticator app added.") || !strings.Contains(p.body, html.EscapeString(name)) {
		t.Fatalf("confirming %q: %.600s", name, p.body)
	}
	return p, secret
}

func TestSecurityInfoSeveralAppsAndDeletingMethods(t *testing.T) {
	e, k := keyEnv(t)
	ctx := context.Background()
	first, _, err := e.svc.EnrollTOTP(ctx, e.tenant.ID, e.user)
	if err != nil {
		t.Fatal(err)
	}
	code := func(secret string) string {
		e.clock.Add(time.Minute)
		c, _ := totp.GenerateCode(secret, e.clock.Now())
		return c
	}
	b := e.browser(t)
	p := b.signIn(b.get(e.securityInfoURL()), userUPN, userPass)
	p = b.submit(p, url.Values{"otc": {code(first.Secret)}})
	// Four more apps, each with its name; a sixth is refused.
	secrets := []string{first.Secret}
	for _, name := range []string{"Work phone <2>", "Tablet", "Old phone", "Spare"} {
		var sec string
		p, sec = addApp(t, b, p, name, e.clock.Now())
		secrets = append(secrets, sec)
	}
	if strings.Contains(p.body, `id="addapp"`) {
		t.Errorf("a sixth app is offered: %.600s", p.body)
	}
	if p2 := b.submit(p, url.Values{"action": {"addapp"}}); !strings.Contains(p2.body, "the most you can have") {
		t.Fatalf("a sixth app: %.600s", p2.body)
	} else {
		p = p2
	}
	apps, err := e.svc.AuthenticatorApps(ctx, e.tenant.ID, e.user.ID)
	if err != nil || len(apps) != maxTOTPApps || apps[1].Name != "Work phone <2>" {
		t.Fatalf("apps: %+v %v", apps, err)
	}
	// A code from any of them is a second factor.
	for i, sec := range secrets {
		if err := e.svc.VerifySecondFactor(ctx, e.tenant.ID, e.user.ID, code(sec)); err != nil {
			t.Errorf("app %d: %v", i, err)
		}
	}
	// Deleting needs a fresh second factor, checked on the POST itself.
	e.clock.Add(mfaFreshness)
	p = b.submit(p, url.Values{"action": {"remove:app:" + apps[1].ID}})
	if !strings.Contains(p.body, `value="mfa"`) || strings.Contains(p.body, "deleted") {
		t.Fatalf("a delete with a stale second factor: %.600s", p.body)
	}
	if got, _ := e.svc.AuthenticatorApps(ctx, e.tenant.ID, e.user.ID); len(got) != maxTOTPApps {
		t.Fatalf("deleted without a fresh second factor: %d apps", len(got))
	}
	p = b.submit(p, url.Values{"otc": {code(secrets[2])}})
	p = b.submit(p, url.Values{"action": {"remove:app:" + apps[1].ID}})
	if !strings.Contains(p.body, "Authenticator app deleted.") || strings.Contains(p.body, "Work phone") || !strings.Contains(p.body, `id="addapp"`) {
		t.Fatalf("deleting an app: %.600s", p.body)
	}
	if err := e.svc.VerifySecondFactor(ctx, e.tenant.ID, e.user.ID, code(secrets[1])); !ErrBadSecondFactor(err) {
		t.Errorf("a deleted app's code: %v", err)
	}
	// Another user's method, or one that is gone, is not deleted.
	p = b.submit(p, url.Values{"action": {"remove:app:" + apps[1].ID}})
	if !strings.Contains(p.body, "no longer registered") {
		t.Fatalf("deleting a deleted app: %.600s", p.body)
	}
	// Down to a key: the apps go, the key stays.
	p = b.submit(p, url.Values{"action": {"addkey"}})
	p = b.submit(p, url.Values{"credential": {k.create(pageOptions(t, p))}})
	if !strings.Contains(p.body, "Security key added.") {
		t.Fatalf("adding a key: %.600s", p.body)
	}
	for _, a := range []AuthenticatorApp{apps[0], apps[2], apps[3], apps[4]} {
		p = b.submit(p, url.Values{"action": {"remove:app:" + a.ID}})
		if !strings.Contains(p.body, "Authenticator app deleted.") {
			t.Fatalf("deleting %s: %.600s", a.Name, p.body)
		}
	}
	// The last second factor stays while a user flow requires MFA.
	if _, err := e.svc.CreateUserFlow(ctx, e.tenant.ID, UserFlow{ID: "mfa", UserFlowType: UserFlowSignIn, MultifactorAuthentication: MFAAlways}); err != nil {
		t.Fatal(err)
	}
	p = b.submit(p, url.Values{"action": {"remove:key:" + b64(k.id)}})
	if !strings.Contains(p.body, "requires multifactor authentication") {
		t.Fatalf("deleting the last factor of an MFA tenant: %.600s", p.body)
	}
	if _, keys, _ := e.svc.SecondFactors(ctx, e.tenant.ID, e.user.ID); len(keys) != 1 {
		t.Fatalf("the last key was deleted: %d", len(keys))
	}
	if err := e.svc.Directory().DeleteUserFlow(ctx, e.tenant.ID, "B2C_1_mfa"); err != nil {
		t.Fatal(err)
	}
	p = b.submit(p, url.Values{"action": {"remove:key:" + b64(k.id)}})
	if !strings.Contains(p.body, "Security key deleted.") || !strings.Contains(p.body, "No second factor yet") {
		t.Fatalf("deleting the last factor: %.600s", p.body)
	}
	if enrolled, err := e.svc.MFAEnrolled(ctx, e.tenant.ID, e.user.ID); err != nil || enrolled {
		t.Fatalf("after the last factor: %v %v", enrolled, err)
	}
}

// A record from before several apps (one secret on the record) reads as
// one app with Graph's former fixed ID, and another app joins it.
func TestLegacyAuthenticatorAppRecord(t *testing.T) {
	e := newSigninEnv(t)
	ctx := context.Background()
	raw := []byte("12345678901234567890")
	legacy, _ := json.Marshal(map[string]any{"tenantId": strings.ToLower(e.tenant.ID), "userId": e.user.ID, "secret": raw,
		"enrolled": true, "created": e.clock.Now()})
	if err := e.svc.dir.recs.Put(ctx, tableMFA, tkey(e.tenant.ID, e.user.ID), legacy); err != nil {
		t.Fatal(err)
	}
	apps, err := e.svc.AuthenticatorApps(ctx, e.tenant.ID, e.user.ID)
	if err != nil || len(apps) != 1 || apps[0].ID != legacyAppID {
		t.Fatalf("legacy apps: %+v %v", apps, err)
	}
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	c, _ := totp.GenerateCode(secret, e.clock.Now())
	if err := e.svc.VerifySecondFactor(ctx, e.tenant.ID, e.user.ID, c); err != nil {
		t.Fatalf("the legacy app's code: %v", err)
	}
	if err := e.svc.VerifySecondFactor(ctx, e.tenant.ID, e.user.ID, c); !ErrBadSecondFactor(err) {
		t.Fatalf("the legacy app's code twice: %v", err)
	}
	enr, err := e.svc.AddAuthenticatorApp(ctx, e.tenant.ID, e.user, "")
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := totp.GenerateCode(enr.Secret, e.clock.Now())
	if codes, err := e.svc.ConfirmTOTP(ctx, e.tenant.ID, e.user.ID, c2); err != nil || len(codes) == 0 {
		// the legacy record had no recovery codes: the user gets a set now
		t.Fatalf("a second app beside the legacy one: %v %v", codes, err)
	}
	if apps, _ := e.svc.AuthenticatorApps(ctx, e.tenant.ID, e.user.ID); len(apps) != 2 || apps[1].Name != "Authenticator app 2" {
		t.Fatalf("apps: %+v", apps)
	}
}

// Two deletes at once, of the user's two authenticator apps in a tenant
// that requires MFA: one goes, the other is refused, however the two
// requests interleave (each round restores both apps and posts the two
// deletes together).
func TestSecurityInfoConcurrentDeletesKeepTheLastFactor(t *testing.T) {
	e := newSigninEnv(t)
	ctx := context.Background()
	first, _, err := e.svc.EnrollTOTP(ctx, e.tenant.ID, e.user)
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	p := b.signIn(b.get(e.securityInfoURL()), userUPN, userPass)
	e.clock.Add(time.Minute)
	c, _ := totp.GenerateCode(first.Secret, e.clock.Now())
	p = b.submit(p, url.Values{"otc": {c}})
	addApp(t, b, p, "Second phone", e.clock.Now())
	apps, err := e.svc.AuthenticatorApps(ctx, e.tenant.ID, e.user.ID)
	if err != nil || len(apps) != 2 {
		t.Fatalf("apps: %+v %v", apps, err)
	}
	if _, err := e.svc.CreateUserFlow(ctx, e.tenant.ID, UserFlow{ID: "mfa", UserFlowType: UserFlowSignIn, MultifactorAuthentication: MFAAlways}); err != nil {
		t.Fatal(err)
	}
	both, err := e.svc.dir.recs.Get(ctx, tableMFA, tkey(e.tenant.ID, e.user.ID))
	if err != nil {
		t.Fatal(err)
	}
	// The two posts carry the cookies the page came with (each answer
	// sets a new form token, which a shared jar would give the other).
	client := &http.Client{Transport: b.c.Transport}
	post := func(form url.Values, cookies []*http.Cookie, action string) (string, error) {
		f := url.Values{"q": form["q"], "csrf": form["csrf"], "action": {action}}
		req, _ := http.NewRequest(http.MethodPost, e.securityInfoURL(), strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return string(body), err
	}
	deleted, refused := 0, 0
	for round := 0; round < 400; round++ {
		if err := e.svc.dir.recs.Put(ctx, tableMFA, tkey(e.tenant.ID, e.user.ID), both); err != nil {
			t.Fatal(err)
		}
		p := b.get(e.securityInfoURL())
		form := url.Values{}
		for _, m := range hiddenRE.FindAllStringSubmatch(p.body, -1) {
			form.Set(m[1], html.UnescapeString(m[2]))
		}
		if !strings.Contains(p.body, "2 method(s)") || form.Get("csrf") == "" {
			t.Fatalf("round %d: the page before the deletes: %.600s", round, p.body)
		}
		u, _ := url.Parse(e.securityInfoURL())
		cookies := b.c.Jar.Cookies(u)
		var wg sync.WaitGroup
		bodies, errs := make([]string, 2), make([]error, 2)
		for i, a := range apps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				bodies[i], errs[i] = post(form, cookies, "remove:app:"+a.ID)
			}()
		}
		wg.Wait()
		for i := range bodies {
			switch {
			case errs[i] != nil:
				t.Fatalf("round %d: %v", round, errs[i])
			case strings.Contains(bodies[i], "Authenticator app deleted."):
				deleted++
			case strings.Contains(bodies[i], "requires multifactor authentication"):
				refused++
			default:
				t.Fatalf("round %d: a delete answered: %s", round, bodies[i][strings.Index(bodies[i], "<main"):])
			}
		}
		if left, err := e.svc.AuthenticatorApps(ctx, e.tenant.ID, e.user.ID); err != nil || len(left) != 1 {
			t.Fatalf("round %d: %d apps left after two concurrent deletes (want 1): %v", round, len(left), err)
		}
	}
	if deleted != 400 || refused != 400 {
		t.Errorf("deleted %d, refused %d; want 400 of each", deleted, refused)
	}
}

// A code is good once however two sign-ins using it interleave: of two
// concurrent checks of one TOTP code, or of one recovery code, exactly
// one passes.
func TestSecondFactorCodeSpentOnceUnderConcurrency(t *testing.T) {
	e := newSigninEnv(t)
	ctx := context.Background()
	enr, recovery, err := e.svc.EnrollTOTP(ctx, e.tenant.ID, e.user)
	if err != nil {
		t.Fatal(err)
	}
	twice := func(code string) (passed int) {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = e.svc.VerifySecondFactor(ctx, e.tenant.ID, e.user.ID, code)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err == nil {
				passed++
			} else if !ErrBadSecondFactor(err) {
				t.Fatal(err)
			}
		}
		return passed
	}
	for round := 0; round < 200; round++ {
		e.clock.Add(time.Minute)
		c, _ := totp.GenerateCode(enr.Secret, e.clock.Now())
		if n := twice(c); n != 1 {
			t.Fatalf("round %d: one TOTP code passed %d times", round, n)
		}
	}
	for _, c := range recovery {
		if n := twice(c); n != 1 {
			t.Fatalf("recovery code %s passed %d times", c, n)
		}
	}
}
