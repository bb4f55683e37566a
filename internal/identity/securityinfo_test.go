package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
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
	if !strings.Contains(p.body, `id="methods"`) || !strings.Contains(p.body, "Authenticator app") || strings.Contains(p.body, `id="addapp"`) {
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
	m := regexp.MustCompile(`<code id="secret">([A-Z2-7 ]+)</code>`).FindStringSubmatch(p.body)
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
	if _, err := e.svc.beginTOTP(context.Background(), e.tenant.ID, e.user, true); err != ErrMFAEnrolled {
		t.Errorf("a second app: %v", err)
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
