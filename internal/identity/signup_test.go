package identity

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// mailbox is a Mailer that keeps what it is given, as an SMTP server's
// inbox would; fail makes it refuse.
type mailbox struct {
	mu   sync.Mutex
	to   []string
	body []string
	fail error
}

func (m *mailbox) Send(_ context.Context, to, subject string, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.to = append(m.to, to)
	m.body = append(m.body, subject+"\n"+string(body))
	return nil
}

var mailedCode = regexp.MustCompile(`\b(\d{6})\b`)

// lastCode is the code of the last mail to addr.
func (m *mailbox) lastCode(t *testing.T, addr string) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.to) - 1; i >= 0; i-- {
		if m.to[i] == addr {
			if c := mailedCode.FindString(m.body[i]); c != "" {
				return c
			}
		}
	}
	t.Fatalf("no code mailed to %s (mails to %v)", addr, m.to)
	return ""
}

func (m *mailbox) count() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.to) }

// signUp runs the sign-up pages from page p (a page with the sign-up
// link, or a signUp flow's first page) up to the attributes step.
func signUpTo(t *testing.T, b *browser, p page, mb *mailbox, email string) page {
	t.Helper()
	if strings.Contains(p.body, `id="createAccount"`) {
		p = b.submit(p, url.Values{"action": {"signup"}})
	}
	if !strings.Contains(p.body, `name="email"`) {
		t.Fatalf("no sign-up page: %d %.400s", p.status, p.body)
	}
	p = b.submit(p, url.Values{"action": {"signup-send"}, "email": {email}})
	if !strings.Contains(p.body, `name="verificationCode"`) {
		t.Fatalf("no code step: %d %.400s", p.status, p.body)
	}
	p = b.submit(p, url.Values{"action": {"signup-verify"}, "verificationCode": {mb.lastCode(t, email)}})
	if !strings.Contains(p.body, `name="newPassword"`) {
		t.Fatalf("no attributes step: %d %.400s", p.status, p.body)
	}
	return p
}

func TestB2CSelfServiceSignUp(t *testing.T) {
	e := newB2CEnv(t)
	e.grantAdminConsent(t)
	mb := &mailbox{}
	e.svc.SetMailer(mb)
	const bob = "bob@example.test"
	cfg := e.oauth("B2C_1_susi")

	b := e.browser(t)
	p := b.get(cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("nonce", "n1")))
	if !strings.Contains(p.body, `id="createAccount"`) {
		t.Fatalf("the sign-in page of a sign-up or sign-in flow has no sign-up link: %.500s", p.body)
	}
	p = b.submit(p, url.Values{"action": {"signup"}})
	// An address that is not one is refused before any mail.
	p = b.submit(p, url.Values{"action": {"signup-send"}, "email": {"bob at example"}})
	if !strings.Contains(p.body, "valid email address") || mb.count() != 0 {
		t.Fatalf("a bad address: %d mails, %.400s", mb.count(), p.body)
	}
	p = b.submit(p, url.Values{"action": {"signup-send"}, "email": {bob}})
	code := mb.lastCode(t, bob)
	// A wrong code is refused; the third spends the code.
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 1; i <= signUpCodeTries; i++ {
		p = b.submit(p, url.Values{"action": {"signup-verify"}, "verificationCode": {wrong}})
		if !strings.Contains(p.body, "That code is incorrect") {
			t.Fatalf("wrong code %d: %.400s", i, p.body)
		}
	}
	p = b.submit(p, url.Values{"action": {"signup-verify"}, "verificationCode": {code}})
	if !strings.Contains(p.body, "has expired. Send a new code") {
		t.Fatalf("the right code after the tries were spent: %.400s", p.body)
	}
	// A new code, and it expires with time.
	p = b.submit(p, url.Values{"action": {"signup-send"}})
	code = mb.lastCode(t, bob)
	e.clock.Add(signUpCodeLifetime + time.Second)
	p = b.submit(p, url.Values{"action": {"signup-verify"}, "verificationCode": {code}})
	if !strings.Contains(p.body, "has expired") {
		t.Fatalf("an expired code: %.400s", p.body)
	}
	p = b.submit(p, url.Values{"action": {"signup-send"}})
	p = b.submit(p, url.Values{"action": {"signup-verify"}, "verificationCode": {mb.lastCode(t, bob)}})
	if !strings.Contains(p.body, `name="newPassword"`) {
		t.Fatalf("the right code: %.400s", p.body)
	}

	// B2C's strong password policy and its messages.
	attrs := func(pw, again string) url.Values {
		return url.Values{"action": {"signup-create"}, "newPassword": {pw}, "reenterPassword": {again},
			"displayName": {"Bob Example"}, "givenName": {"Bob"}, "surname": {"Example"}}
	}
	for _, c := range []struct{ pw, again, want string }{
		{"Sh0rt!", "Sh0rt!", "between 8 and 64 characters"},
		{strings.Repeat("aB1", 22), strings.Repeat("aB1", 22), "between 8 and 64 characters"},
		{"alllowercase1", "alllowercase1", "at least 3 of the following"},
		{"Corr3ct-Horse", "Corr3ct-Horsf", "do not match"},
	} {
		p = b.submit(p, attrs(c.pw, c.again))
		if !strings.Contains(p.body, c.want) || !strings.Contains(p.body, `value="Bob Example"`) {
			t.Errorf("password %q: want %q and the values kept: %.600s", c.pw, c.want, p.body)
		}
	}
	q := redirectParams(t, b.submit(p, attrs("Corr3ct-Horse", "Corr3ct-Horse")), webRedirect)
	tok, err := cfg.Exchange(e.client(), q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	var id, at B2CClaims
	if err := unsafeClaims(tok.Extra("id_token").(string), &id); err != nil {
		t.Fatal(err)
	}
	if err := unsafeClaims(tok.AccessToken, &at); err != nil {
		t.Fatal(err)
	}
	if !id.NewUser || !at.NewUser || id.Name != "Bob Example" || id.GivenName != "Bob" || id.FamilyName != "Example" ||
		len(id.Emails) != 1 || id.Emails[0] != bob || id.Policy != "B2C_1_susi" || id.Nonce != "n1" {
		t.Fatalf("first tokens after the sign-up: id %+v, access %+v", id, at)
	}
	// The account is a local account signing in with its address.
	u, err := e.svc.Directory().UserBySignInName(e.ctx, e.tenant.ID, "BOB@example.test")
	if err != nil || u.ID != id.ObjectID || userString(u, "creationType") != "LocalAccount" ||
		u.UserPrincipalName != u.ID+"@contoso.test" || !strings.Contains(string(u.Properties["identities"]), `"signInType":"emailAddress"`) {
		t.Fatalf("the new user: %+v %v", u, err)
	}
	// The next sign-in in the same session is not new any more.
	q = redirectParams(t, b.get(cfg.AuthCodeURL("st")), webRedirect)
	tok, err = cfg.Exchange(e.client(), q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	id = B2CClaims{}
	_ = unsafeClaims(tok.Extra("id_token").(string), &id)
	if id.NewUser || id.ObjectID != u.ID {
		t.Errorf("second sign-in: %+v", id)
	}
	// Another browser signs in with the address and the password.
	b2 := e.browser(t)
	q = redirectParams(t, b2.signIn(b2.get(cfg.AuthCodeURL("st")), bob, "Corr3ct-Horse"), webRedirect)
	if q.Get("code") == "" {
		t.Fatalf("sign-in with the new account: %v", q)
	}
	// The same address cannot sign up twice (nor an administrator's UPN).
	for _, addr := range []string{"Bob@Example.test", userUPN} {
		b3 := e.browser(t)
		p = signUpTo(t, b3, b3.get(cfg.AuthCodeURL("st")), mb, addr)
		if r := b3.submit(p, attrs("Corr3ct-Horse", "Corr3ct-Horse")); !strings.Contains(r.body, "already exists") {
			t.Errorf("sign-up of %s again: %d %.400s", addr, r.status, r.body)
		}
	}
	// Cancel on the sign-up page: AADB2C90091 to the app.
	b4 := e.browser(t)
	p = b4.submit(b4.get(cfg.AuthCodeURL("st4")), url.Values{"action": {"signup"}})
	q = redirectParams(t, b4.submit(p, url.Values{"action": {"cancel"}}), webRedirect)
	if !strings.HasPrefix(q.Get("error_description"), "AADB2C90091") || q.Get("state") != "st4" {
		t.Errorf("cancel: %v", q)
	}
	// A mail server that fails: the page says so, nothing is kept as sent.
	mb.fail = errors.New("connection refused")
	b5 := e.browser(t)
	p = b5.submit(b5.get(cfg.AuthCodeURL("st")), url.Values{"action": {"signup"}})
	if r := b5.submit(p, url.Values{"action": {"signup-send"}, "email": {"carol@example.test"}}); r.status != http.StatusServiceUnavailable ||
		!strings.Contains(r.body, "could not be sent") {
		t.Errorf("failing mail server: %d %.400s", r.status, r.body)
	}
}

func TestB2CSignUpWithMFAAndWithoutMail(t *testing.T) {
	e := newB2CEnv(t)
	e.grantAdminConsent(t)
	if _, err := e.svc.CreateUserFlow(e.ctx, e.tenant.ID, UserFlow{ID: "signup", UserFlowType: UserFlowSignUp}); err != nil {
		t.Fatal(err)
	}
	// Without a mail server: no link, and the sign-up page says why.
	b := e.browser(t)
	p := b.get(e.oauth("B2C_1_susi").AuthCodeURL("st"))
	if strings.Contains(p.body, "createAccount") || !strings.Contains(p.body, `name="passwd"`) {
		t.Fatalf("sign-up offered without a mail server: %.400s", p.body)
	}
	p = b.get(e.oauth("B2C_1_signup").AuthCodeURL("st"))
	if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "no email server") {
		t.Fatalf("signUp flow without a mail server: %d %.400s", p.status, p.body)
	}
	if r := b.submit(p, url.Values{"action": {"signup-send"}, "email": {"dan@example.test"}}); r.status != http.StatusServiceUnavailable {
		t.Fatalf("a code sent without a mail server: %d", r.status)
	}

	mb := &mailbox{}
	e.svc.SetMailer(mb)
	// A signUp flow opens on the sign-up page.
	b = e.browser(t)
	p = signUpTo(t, b, b.get(e.oauth("B2C_1_signup").AuthCodeURL("st")), mb, "dan@example.test")
	redirectParams(t, b.submit(p, url.Values{"action": {"signup-create"}, "newPassword": {"Corr3ct-Horse"},
		"reenterPassword": {"Corr3ct-Horse"}, "displayName": {"Dan"}}), webRedirect)

	// A sign-up through a flow that requires MFA enrols the authenticator
	// app before the app gets its code.
	b = e.browser(t)
	p = signUpTo(t, b, b.get(e.oauth("B2C_1_susi_mfa").AuthCodeURL("st")), mb, "erin@example.test")
	p = b.submit(p, url.Values{"action": {"signup-create"}, "newPassword": {"Corr3ct-Horse"},
		"reenterPassword": {"Corr3ct-Horse"}, "displayName": {"Erin"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, `value="enroll"`) {
		t.Fatalf("MFA flow after sign-up: %d %q %.400s", p.status, p.location, p.body)
	}
	secret := strings.ReplaceAll(regexp.MustCompile(`<code id="secret">([A-Z2-7 ]+)</code>`).FindStringSubmatch(p.body)[1], " ", "")
	f := &mfaFlow{e: e.signinEnv}
	p = b.submit(p, url.Values{"otc": {f.code(t, secret)}})
	if !strings.Contains(p.body, `id="recovery"`) {
		t.Fatalf("enrolment: %.400s", p.body)
	}
	q := redirectParams(t, b.submit(p, nil), webRedirect)
	tok, err := e.oauth("B2C_1_susi_mfa").Exchange(e.client(), q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	var id B2CClaims
	_ = unsafeClaims(tok.Extra("id_token").(string), &id)
	if !id.NewUser || id.Policy != "B2C_1_susi_mfa" || len(id.Emails) != 1 || id.Emails[0] != "erin@example.test" {
		t.Errorf("tokens after sign-up with MFA: %+v", id)
	}
}

func TestB2CPasswordResetByEmail(t *testing.T) {
	e := newB2CEnv(t)
	e.grantAdminConsent(t)
	mb := &mailbox{}
	e.svc.SetMailer(mb)
	const bob = "bob@example.test"
	if _, err := e.svc.CreateLocalAccount(e.ctx, e.tenant.ID, LocalAccount{Email: bob, Password: "Old-Password-1", Attributes: map[string]string{"displayName": "Bob"}}); err != nil {
		t.Fatal(err)
	}
	reset := e.oauth("B2C_1_reset")
	// An unknown address gets the same page, and no mail.
	b := e.browser(t)
	p := b.get(reset.AuthCodeURL("st"))
	if !strings.Contains(p.body, `value="reset-send"`) || !strings.Contains(p.body, "Reset your password") {
		t.Fatalf("reset page with a mail server: %.500s", p.body)
	}
	p = b.submit(p, url.Values{"action": {"reset-send"}, "email": {"nobody@example.test"}})
	if !strings.Contains(p.body, `name="verificationCode"`) || mb.count() != 0 {
		t.Fatalf("unknown address: %d mails, %.500s", mb.count(), p.body)
	}
	// The account's address gets a code; then the new password.
	b = e.browser(t)
	p = b.submit(b.get(reset.AuthCodeURL("st")), url.Values{"action": {"reset-send"}, "email": {bob}})
	p = b.submit(p, url.Values{"action": {"reset-verify"}, "verificationCode": {mb.lastCode(t, bob)}})
	if !strings.Contains(p.body, `name="newPassword"`) || strings.Contains(p.body, `name="displayName"`) {
		t.Fatalf("password step: %.500s", p.body)
	}
	p = b.submit(p, url.Values{"action": {"reset-set"}, "newPassword": {"weak"}, "reenterPassword": {"weak"}})
	if !strings.Contains(p.body, "between 8 and 64") {
		t.Fatalf("weak password: %.500s", p.body)
	}
	q := redirectParams(t, b.submit(p, url.Values{"action": {"reset-set"}, "newPassword": {"New-Password-2"},
		"reenterPassword": {"New-Password-2"}}), webRedirect)
	if q.Get("code") == "" || q.Get("state") != "st" {
		t.Fatalf("after the reset: %v", q)
	}
	if _, err := e.svc.AuthenticateUser(e.ctx, e.tenant.ID, bob, "Old-Password-1"); !ErrBadCredentials(err) {
		t.Errorf("the old password still works: %v", err)
	}
	if _, err := e.svc.AuthenticateUser(e.ctx, e.tenant.ID, bob, "New-Password-2"); err != nil {
		t.Errorf("the new password: %v", err)
	}
	// The last step without a verified address is refused.
	b = e.browser(t)
	p = b.submit(b.get(reset.AuthCodeURL("st")), url.Values{"action": {"reset-set"}, "newPassword": {"Other-Password-3"},
		"reenterPassword": {"Other-Password-3"}})
	if !strings.Contains(p.body, "has expired") {
		t.Fatalf("reset without a verified address: %d %.500s", p.status, p.body)
	}
}

// The sign-up page collects exactly the flow's assigned attributes,
// required or optional as assigned, and stores them on the new user.
func TestB2CSignUpCollectsTheFlowsAttributes(t *testing.T) {
	e := newB2CEnv(t)
	e.grantAdminConsent(t)
	mb := &mailbox{}
	e.svc.SetMailer(mb)
	if got := e.mustFlow(t, "B2C_1_susi").UserAttributes(); len(got) != 3 || got[0].ID != "displayName" || got[0].IsOptional || !got[1].IsOptional {
		t.Fatalf("a new flow's attributes: %+v", got)
	}
	for _, id := range []string{"displayName", "givenName", "surname"} {
		if err := e.svc.RemoveUserFlowAttribute(e.ctx, e.tenant.ID, "B2C_1_susi", id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.AddUserFlowAttribute(e.ctx, e.tenant.ID, "B2C_1_susi", UserFlowAttribute{ID: "city", DisplayName: "Home town"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddUserFlowAttribute(e.ctx, e.tenant.ID, "B2C_1_susi", UserFlowAttribute{ID: "jobTitle", IsOptional: true}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []UserFlowAttribute{{ID: "extension_abc_shoeSize"}, {ID: "country", UserInputType: "dropdownSingleSelect"},
		{ID: "postalCode", RequiresVerification: true}} {
		if _, err := e.svc.AddUserFlowAttribute(e.ctx, e.tenant.ID, "B2C_1_susi", bad); !errors.Is(err, ErrInvalidUserFlow) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := e.svc.AddUserFlowAttribute(e.ctx, e.tenant.ID, "B2C_1_susi", UserFlowAttribute{ID: "City"}); !errors.Is(err, ErrExists) {
		t.Errorf("city twice: %v", err)
	}
	if _, err := e.svc.AddUserFlowAttribute(e.ctx, e.tenant.ID, "B2C_1_reset", UserFlowAttribute{ID: "city"}); !errors.Is(err, ErrInvalidUserFlow) {
		t.Errorf("an attribute on a password reset flow: %v", err)
	}
	const carol = "carol@example.test"
	cfg := e.oauth("B2C_1_susi")
	b := e.browser(t)
	p := signUpTo(t, b, b.get(cfg.AuthCodeURL("st")), mb, carol)
	for _, want := range []string{`<label for="city">Home town</label>`, `id="city" name="city" type="text" autocomplete="address-level2" maxlength="128" required`, `<label for="jobTitle">Job Title (optional)</label>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the attributes step lacks %q: %.1200s", want, p.body)
		}
	}
	for _, gone := range []string{`name="displayName"`, `name="givenName"`, `name="surname"`} {
		if strings.Contains(p.body, gone) {
			t.Errorf("the attributes step still has %s", gone)
		}
	}
	form := url.Values{"action": {"signup-create"}, "newPassword": {"Corr3ct-Horse"}, "reenterPassword": {"Corr3ct-Horse"},
		"jobTitle": {"Engineer"}, "givenName": {"Not asked"}}
	p = b.submit(p, form)
	if !strings.Contains(p.body, "Home town: this information is required.") || !strings.Contains(p.body, `value="Engineer"`) {
		t.Fatalf("without the required city: %.800s", p.body)
	}
	form.Set("city", "Lisbon")
	q := redirectParams(t, b.submit(p, form), webRedirect)
	tok, err := cfg.Exchange(e.client(), q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	// Both tokens carry the attributes under B2C's claim names, only the
	// ones the user has a value for.
	for name, raw := range map[string]string{"id_token": tok.Extra("id_token").(string), "access token": tok.AccessToken} {
		claims := map[string]any{}
		if err := unsafeClaims(raw, &claims); err != nil {
			t.Fatal(err)
		}
		if claims["city"] != "Lisbon" || claims["jobTitle"] != "Engineer" || claims["newUser"] != true {
			t.Errorf("%s: the attributes' claims: %v", name, claims)
		}
		for _, absent := range []string{"given_name", "family_name", "country", "postalCode", "state", "streetAddress", "City", "job_title"} {
			if v, ok := claims[absent]; ok {
				t.Errorf("%s: %s = %v, the user has no such value", name, absent, v)
			}
		}
	}
	u, err := e.svc.Directory().UserBySignInName(e.ctx, e.tenant.ID, carol)
	if err != nil {
		t.Fatal(err)
	}
	if userString(u, "city") != "Lisbon" || userString(u, "jobTitle") != "Engineer" || u.Properties["givenName"] != nil || u.DisplayName != "unknown" {
		t.Fatalf("the new user: %+v", u)
	}
}

func (e *b2cEnv) mustFlow(t *testing.T, id string) *UserFlow {
	t.Helper()
	f, err := e.svc.Directory().UserFlow(e.ctx, e.tenant.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return &f
}
