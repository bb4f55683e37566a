package server

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/steward-gov/steward/internal/identity"
)

// TestSecurityInfoAndPasswordlessInHeadlessChromium adds a security key
// beside a user's authenticator app on the security-info page, then signs
// in without a password with it, in Chromium with a virtual authenticator
// that keeps discoverable credentials: the password and the app's code
// open the page, "Add a security key" registers a resident credential,
// and after the cookies are gone the console's sign-in page offers "Sign
// in with a security key", which signs in with amr fido mfa (no pwd) and
// satisfies the console's step-up.
func TestSecurityInfoAndPasswordlessInHeadlessChromium(t *testing.T) {
	c := newChromiumTab(t)
	s, _ := startSteward(t, t.TempDir(), CloudService(), WebService())
	ctx := context.Background()
	tid := s.Bootstrap.TenantID
	user, err := s.Identity.CreateUser(ctx, tid, "gil@steward.test", "Gil", "Gil-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	enr, _, err := s.Identity.EnrollTOTP(ctx, tid, user)
	if err != nil {
		t.Fatal(err)
	}
	enableUI := false
	runCDP(c, webauthn.Enable, webauthn.EnableParams{EnableUI: &enableUI})
	auth := runCDP(c, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true}})

	base := strings.TrimSuffix(s.BaseURL, "/")
	c.do(chromedp.Navigate(base+"/"+tid+"/"+identity.SecurityInfoPath), chromedp.WaitVisible(chromedp.CSS("#passwd")),
		chromedp.SendKeys(chromedp.CSS("#login"), "gil@steward.test"),
		chromedp.SendKeys(chromedp.CSS("#passwd"), "Gil-Password-1"),
		chromedp.Submit(chromedp.CSS("#passwd")), chromedp.WaitVisible(chromedp.CSS("#otc")))
	code, err := totp.GenerateCode(enr.Secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.do(chromedp.SendKeys(chromedp.CSS("#otc"), code), chromedp.Submit(chromedp.CSS("#otc")),
		chromedp.WaitVisible(chromedp.CSS("#methods")))
	if m := c.text("#methods"); !strings.Contains(m, "Authenticator app") || strings.Contains(m, "Security key") {
		t.Fatalf("methods before adding the key: %q", m)
	}
	c.do(chromedp.Click(chromedp.CSS("#addkey")), chromedp.WaitVisible(chromedp.CSS("#webauthn-start")),
		chromedp.Click(chromedp.CSS("#webauthn-start")), chromedp.WaitNotPresent(chromedp.CSS("#webauthn-start")),
		chromedp.WaitVisible(chromedp.CSS("p[role=status]")))
	if st := c.text("p[role=status]"); !strings.Contains(st, "Security key added.") {
		t.Fatalf("after registering the key: %q", st)
	}
	creds := runCDP(c, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth.AuthenticatorID})
	if len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential {
		t.Fatalf("the virtual authenticator holds %+v", creds.Credentials)
	}
	if app, keys, err := s.Identity.SecondFactors(ctx, tid, user.ID); err != nil || !app || len(keys) != 1 {
		t.Fatalf("the user's methods: app %v, keys %+v (%v)", app, keys, err)
	}

	// The console's Security page links to the security-info page.
	c.do(chromedp.Navigate(base+"/console/security"), chromedp.WaitVisible(chromedp.CSS("#security-info")),
		chromedp.Click(chromedp.CSS("#security-info")), chromedp.WaitVisible(chromedp.CSS("#methods")))
	if m := c.text("#methods"); !strings.Contains(m, "Security key") {
		t.Fatalf("methods after adding the key: %q", m)
	}

	// A new visit, no session: the key alone signs in to the console.
	runCDP(c, network.ClearBrowserCookies, cdp.Empty{})
	c.do(chromedp.Navigate(base+"/console/security"), chromedp.WaitVisible(chromedp.CSS("#passkey")),
		chromedp.Click(chromedp.CSS("#passkey")), chromedp.WaitVisible(chromedp.CSS("#webauthn-start")),
		chromedp.Click(chromedp.CSS("#webauthn-start")), chromedp.WaitVisible(chromedp.CSS("#amr")))
	if amr := strings.Fields(c.text("#amr")); !hasAll(amr, "fido", "mfa") || slices.Contains(amr, "pwd") {
		t.Fatalf("amr after the passwordless sign-in: %q", amr)
	}
	if st := c.text("#stepup-status"); !strings.Contains(st, "Verified with a second factor") {
		t.Fatalf("a passwordless sign-in does not satisfy the step-up: %q", st)
	}
}
