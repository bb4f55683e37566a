package identity

import (
	"context"
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

var (
	secretRE   = regexp.MustCompile(`<code id="secret">([A-Z2-7 ]+)</code>`)
	recoveryRE = regexp.MustCompile(`<li><code>([a-z2-7]{8}-[a-z2-7]{8})</code></li>`)
)

// mfaFlow is a web app configuration and the helpers to run sign-ins
// that need a second factor.
type mfaFlow struct {
	e   *signinEnv
	cfg oauth2.Config
	ctx context.Context
}

func newMFAFlow(t *testing.T) *mfaFlow {
	e := newSigninEnv(t)
	return &mfaFlow{e: e, ctx: context.WithValue(context.Background(), oauth2.HTTPClient, e.srv.Client()),
		cfg: oauth2.Config{ClientID: e.web.AppID, ClientSecret: e.webSecret, RedirectURL: webRedirect, Scopes: []string{"openid"},
			Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + "/" + e.tenant.ID + "/oauth2/v2.0/authorize",
				TokenURL: e.srv.URL + "/" + e.tenant.ID + "/oauth2/v2.0/token"}}}
}

var stepUp = oauth2.SetAuthURLParam("claims", `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`)

// idClaims redeems the code of redirect p and returns the id_token's claims.
func (f *mfaFlow) idClaims(t *testing.T, p page) IDClaims {
	t.Helper()
	q := redirectParams(t, p, webRedirect)
	tok, err := f.cfg.Exchange(f.ctx, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	var c IDClaims
	if err := unsafeClaims(tok.Extra("id_token").(string), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *mfaFlow) code(t *testing.T, secret string) string {
	c, err := totp.GenerateCode(secret, f.e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSignInEnrolTOTPThenStepUp(t *testing.T) {
	f := newMFAFlow(t)
	b := f.e.browser(t)
	// Step-up requested: after the password, a user without a second
	// factor enrols one.
	p := b.signIn(b.get(f.cfg.AuthCodeURL("s1", stepUp)), userUPN, userPass)
	m := secretRE.FindStringSubmatch(p.body)
	if m == nil || !strings.Contains(p.body, `src="data:image/png;base64,`) {
		t.Fatalf("want the enrolment page with a QR code, got %d: %.400s", p.status, p.body)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	// A wrong code keeps the enrolment pending, with the same key.
	p = b.submit(p, url.Values{"otc": {"000000"}})
	if !strings.Contains(p.body, "didn&#39;t work") || !strings.Contains(p.body, m[1]) {
		t.Fatalf("wrong enrolment code: %d %.400s", p.status, p.body)
	}
	p = b.submit(p, url.Values{"otc": {f.code(t, secret)}})
	codes := recoveryRE.FindAllStringSubmatch(p.body, -1)
	if len(codes) != recoveryCodeCount {
		t.Fatalf("want %d recovery codes, got %d: %.400s", recoveryCodeCount, len(codes), p.body)
	}
	c := f.idClaims(t, b.submit(p, nil))
	if !slices.Equal(c.AMR, []string{"pwd", "mfa"}) || !slices.Equal(c.ACRS, []string{"c1"}) {
		t.Fatalf("after enrolment: amr %v acrs %v", c.AMR, c.ACRS)
	}
	firstAuth := c.AuthTime

	// Fresh enough: the same session steps up without a prompt.
	f.e.clock.Add(time.Minute)
	if c := f.idClaims(t, b.get(f.cfg.AuthCodeURL("s2", stepUp))); c.AuthTime != firstAuth {
		t.Errorf("auth_time moved without a new factor: %d -> %d", firstAuth, c.AuthTime)
	}
	// Stale: 11 minutes later step-up asks for a code again, prompt=none
	// cannot, and the new code moves auth_time.
	f.e.clock.Add(11 * time.Minute)
	q := redirectParams(t, b.get(f.cfg.AuthCodeURL("s3", stepUp, oauth2.SetAuthURLParam("prompt", "none"))), webRedirect)
	if q.Get("error") != "interaction_required" {
		t.Fatalf("stale step-up with prompt=none: %v", q)
	}
	p = b.get(f.cfg.AuthCodeURL("s4", stepUp))
	if !strings.Contains(p.body, `name="otc"`) || strings.Contains(p.body, `name="passwd"`) {
		t.Fatalf("want the code page only, got %d: %.300s", p.status, p.body)
	}
	c = f.idClaims(t, b.submit(p, url.Values{"otc": {f.code(t, secret)}}))
	if c.AuthTime <= firstAuth || !slices.Contains(c.AMR, "mfa") {
		t.Errorf("after step-up: auth_time %d (was %d), amr %v", c.AuthTime, firstAuth, c.AMR)
	}

	// A new browser: password, then the code (enrolled users always give
	// one). A wrong code fails, a recovery code passes once.
	b2 := f.e.browser(t)
	p = b2.signIn(b2.get(f.cfg.AuthCodeURL("s5")), userUPN, userPass)
	if !strings.Contains(p.body, `name="otc"`) {
		t.Fatalf("enrolled user without the code page: %.300s", p.body)
	}
	p = b2.submit(p, url.Values{"otc": {"123456"}})
	if !strings.Contains(p.body, "didn&#39;t work") {
		t.Fatalf("wrong code accepted: %d %q", p.status, p.location)
	}
	c = f.idClaims(t, b2.submit(p, url.Values{"otc": {codes[0][1]}}))
	if !slices.Equal(c.AMR, []string{"pwd", "mfa"}) || len(c.ACRS) != 0 {
		t.Errorf("recovery code sign-in: amr %v acrs %v", c.AMR, c.ACRS)
	}
	b3 := f.e.browser(t)
	p = b3.submit(b3.signIn(b3.get(f.cfg.AuthCodeURL("s6")), userUPN, userPass), url.Values{"otc": {codes[0][1]}})
	if !strings.Contains(p.body, "didn&#39;t work") {
		t.Fatalf("a recovery code worked twice: %d %q", p.status, p.location)
	}
	// The same TOTP code is good once: replaying the last one fails.
	f.e.clock.Add(0)
	if err := f.e.svc.VerifySecondFactor(context.Background(), f.e.tenant.ID, f.e.user.ID, f.code(t, secret)); !ErrBadSecondFactor(err) {
		t.Errorf("a replayed TOTP code: %v", err)
	}
}

func TestSignInSecondFactorLockout(t *testing.T) {
	f := newMFAFlow(t)
	if _, _, err := f.e.svc.EnrollTOTP(context.Background(), f.e.tenant.ID, f.e.user); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.e.svc.EnrollTOTP(context.Background(), f.e.tenant.ID, f.e.user); err != ErrMFAEnrolled {
		t.Fatalf("second enrolment: %v", err)
	}
	b := f.e.browser(t)
	p := b.signIn(b.get(f.cfg.AuthCodeURL("s")), userUPN, userPass)
	for i := 0; i < lockoutThreshold; i++ {
		p = b.submit(p, url.Values{"otc": {"000000"}})
	}
	if p = b.submit(p, url.Values{"otc": {"000000"}}); p.status != http.StatusTooManyRequests {
		t.Fatalf("after %d wrong codes: %d", lockoutThreshold, p.status)
	}
	if err := f.e.svc.ResetMFA(context.Background(), f.e.tenant.ID, f.e.user.ID); err != nil {
		t.Fatal(err)
	}
	if ok, _ := f.e.svc.MFAEnrolled(context.Background(), f.e.tenant.ID, f.e.user.ID); ok {
		t.Fatal("still enrolled after a reset")
	}
}
