package server

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/steward-gov/steward/internal/identity"
)

// inbox is a mailer that keeps the messages, as an SMTP server's mailbox.
type inbox struct {
	mu   sync.Mutex
	msgs map[string]string
}

func (m *inbox) Send(_ context.Context, to, _ string, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs[to] = string(body)
	return nil
}

func (m *inbox) code(t *testing.T, to string) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	c := regexp.MustCompile(`\b\d{6}\b`).FindString(m.msgs[to])
	if c == "" {
		t.Fatalf("no code mailed to %s: %q", to, m.msgs[to])
	}
	return c
}

// TestB2CSignUpInHeadlessChromium signs up through a B2C sign-up or
// sign-in flow in Chromium: "Sign up now", the emailed code, the password
// and the attributes, then the redirect to the app with a code whose
// tokens say newUser.
func TestB2CSignUpInHeadlessChromium(t *testing.T) {
	c := newChromiumTab(t)
	mail := &inbox{msgs: map[string]string{}}
	s, _ := startSteward(t, t.TempDir(), CloudService(), IdentityMailService(mail))
	ctx := context.Background()
	tid := s.Bootstrap.TenantID
	base := strings.TrimSuffix(s.BaseURL, "/")
	if _, err := s.Identity.CreateUserFlow(ctx, tid, identity.UserFlow{ID: "susi", UserFlowType: identity.UserFlowSignUpOrSignIn}); err != nil {
		t.Fatal(err)
	}
	// The app's redirect URI is a page of the server itself, so the
	// browser lands somewhere that answers.
	redirect := base + "/readyz"
	app, _, err := s.Identity.CreateApplication(ctx, tid, "Shop")
	if err != nil {
		t.Fatal(err)
	}
	web, _ := json.Marshal(map[string]any{"redirectUris": []string{redirect}})
	app.Properties = identity.Properties{"web": web}
	if err := s.Identity.Directory().PutApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"client_id": {app.AppID}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {"openid"}, "state": {"st1"}, "nonce": {"n1"}}
	c.do(chromedp.Navigate(base+"/"+tid+"/B2C_1_susi/oauth2/v2.0/authorize?"+q.Encode()),
		chromedp.WaitVisible(chromedp.CSS("#createAccount")), chromedp.Click(chromedp.CSS("#createAccount")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "hal@example.test"),
		chromedp.Click(chromedp.CSS("#emailVerificationControl_but_send_code")),
		chromedp.WaitVisible(chromedp.CSS("#verificationCode")))
	c.do(chromedp.SendKeys(chromedp.CSS("#verificationCode"), mail.code(t, "hal@example.test")),
		chromedp.Click(chromedp.CSS("#emailVerificationControl_but_verify_code")),
		chromedp.WaitVisible(chromedp.CSS("#newPassword")))
	if st := c.text("p[role=status]"); !strings.Contains(st, "verified") {
		t.Fatalf("after the code: %q", st)
	}
	// A weak password first: the page says why and keeps the attributes.
	c.do(chromedp.SendKeys(chromedp.CSS("#newPassword"), "weakpassword"),
		chromedp.SendKeys(chromedp.CSS("#reenterPassword"), "weakpassword"),
		chromedp.SendKeys(chromedp.CSS("#displayName"), "Hal"),
		chromedp.SendKeys(chromedp.CSS("#givenName"), "Hal"),
		chromedp.Click(chromedp.CSS("#continue")), chromedp.WaitVisible(chromedp.CSS("p.error")))
	if e := c.text("p.error"); !strings.Contains(e, "at least 3") {
		t.Fatalf("weak password: %q", e)
	}
	c.do(chromedp.SendKeys(chromedp.CSS("#newPassword"), "Hal-Password-1"),
		chromedp.SendKeys(chromedp.CSS("#reenterPassword"), "Hal-Password-1"),
		chromedp.Click(chromedp.CSS("#continue")), chromedp.WaitVisible(chromedp.CSS("body")))
	c.do(chromedp.WaitNotPresent(chromedp.CSS("#newPassword")))
	sctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	loc, err := chromedp.Run(sctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	if !strings.HasPrefix(loc, redirect) || u.Query().Get("code") == "" || u.Query().Get("state") != "st1" {
		t.Fatalf("after Create the browser is at %q", loc)
	}
	user, err := s.Identity.Directory().UserBySignInName(ctx, tid, "hal@example.test")
	if err != nil || user.DisplayName != "Hal" {
		t.Fatalf("the new account: %+v %v", user, err)
	}
}
