package server

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// chromiumTab is a headless Chromium tab for a browser test, with each
// step bounded by a generous timeout (the machine may be loaded).
type chromiumTab struct {
	t   *testing.T
	ctx context.Context
}

// stepTimeout bounds one browser step.
const stepTimeout = 60 * time.Second

// newChromiumTab starts Debian's Chromium for the life of the test, or
// skips the test without it.
func newChromiumTab(t *testing.T) *chromiumTab {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no " + chromium + " (Debian: apt-get install chromium; .ci/run installs it); skipping the browser test")
	}
	// Chromium does not read Steward's CA from a file; the test browser
	// talks only to this loopback server, so it skips certificate checks.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.IgnoreCertErrors, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(cancelB)
	// The first call starts the browser for the life of bctx (no timeout
	// on it); each later step is bounded.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatal(err)
	}
	return &chromiumTab{t: t, ctx: bctx}
}

func (c *chromiumTab) do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	sctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		c.t.Fatal(err)
	}
}

func (c *chromiumTab) text(sel string) string {
	c.t.Helper()
	sctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.t.Fatal(err)
	}
	return v
}

// run sends one DevTools command to the tab.
func runCDP[P, R any](c *chromiumTab, cmd cdp.Command[P, R], params P) R {
	c.t.Helper()
	sctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	r, err := chromedp.Run(sctx, func(ctx context.Context, t *chromedp.Target) (R, error) {
		return cdp.Call(ctx, t, cmd, params)
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// TestWebAuthnSecurityKeyInHeadlessChromium registers a security key as a
// user's second factor and signs in with it, in a real browser with
// Chromium's virtual authenticator (CTAP2, internal transport, user
// verification): the console's step-up link leads to the enrolment page,
// where the key is registered instead of an authenticator app; after
// signing out, the user signs in with the password and the key. The
// console shows the id_token's amr each time: pwd, then pwd fido mfa.
func TestWebAuthnSecurityKeyInHeadlessChromium(t *testing.T) {
	c := newChromiumTab(t)
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), WebService())
	ctx := context.Background()
	user, err := s.Identity.CreateUser(ctx, s.Bootstrap.TenantID, "fay@steward.test", "Fay", "Fay-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	enableUI := false
	runCDP(c, webauthn.Enable, webauthn.EnableParams{EnableUI: &enableUI})
	auth := runCDP(c, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
			Transport: webauthn.AuthenticatorTransportInternal, HasUserVerification: true, IsUserVerified: true,
			AutomaticPresenceSimulation: true}})

	base := strings.TrimSuffix(s.BaseURL, "/")
	signIn := func() {
		t.Helper()
		c.do(chromedp.Navigate(base+"/console/security"), chromedp.WaitVisible(chromedp.CSS("#passwd")),
			chromedp.SendKeys(chromedp.CSS("#login"), "fay@steward.test"),
			chromedp.SendKeys(chromedp.CSS("#passwd"), "Fay-Password-1"),
			chromedp.Submit(chromedp.CSS("#passwd")))
	}
	signIn()
	c.do(chromedp.WaitVisible(chromedp.CSS("#amr")))
	if amr := c.text("#amr"); amr != "pwd" {
		t.Fatalf("amr after the password alone: %q", amr)
	}

	// The step-up asks a user without a second factor to set one up; the
	// page's script (the only one, loaded under the CSP) shows the
	// security-key button, which registers a key with the virtual
	// authenticator. The recovery codes come next.
	c.do(chromedp.Click(chromedp.CSS("#stepup")), chromedp.WaitVisible(chromedp.CSS("#webauthn-start")))
	c.do(chromedp.Click(chromedp.CSS("#webauthn-start")), chromedp.WaitVisible(chromedp.CSS("#recovery")))
	creds := runCDP(c, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth.AuthenticatorID})
	if len(creds.Credentials) != 1 || creds.Credentials[0].RpID != "localhost" {
		t.Fatalf("the virtual authenticator holds %d credentials: %+v", len(creds.Credentials), creds.Credentials)
	}
	registered := creds.Credentials[0].SignCount
	if app, keys, err := s.Identity.SecondFactors(ctx, s.Bootstrap.TenantID, user.ID); err != nil || app || len(keys) != 1 {
		t.Fatalf("the user's second factors: app %v, keys %+v (%v)", app, keys, err)
	}
	c.do(chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#amr")))
	if amr := strings.Fields(c.text("#amr")); !hasAll(amr, "pwd", "fido", "mfa") {
		t.Fatalf("amr after registering the key: %q", amr)
	}
	if st := c.text("#stepup-status"); !strings.Contains(st, "Verified with a second factor") {
		t.Fatalf("the step-up is not satisfied after registering the key: %q", st)
	}

	// Sign out (of the console and of the token service), and sign in
	// again: the password, then the key instead of a code.
	c.do(chromedp.Click(chromedp.CSS("form.inline button")), chromedp.WaitNotPresent(chromedp.CSS("#amr")),
		chromedp.WaitVisible(chromedp.CSS("h1")))
	if h := c.text("h1"); !strings.Contains(h, "signed out") {
		t.Fatalf("after signing out: %q", h)
	}
	signIn()
	c.do(chromedp.WaitVisible(chromedp.CSS("#webauthn-start")))
	if page := c.text("main"); !strings.Contains(page, "Use your security key") || !strings.Contains(page, "Code") {
		t.Fatalf("the second-factor page: %q", page)
	}
	c.do(chromedp.Click(chromedp.CSS("#webauthn-start")), chromedp.WaitVisible(chromedp.CSS("#amr")))
	if amr := strings.Fields(c.text("#amr")); !hasAll(amr, "pwd", "fido", "mfa") {
		t.Fatalf("amr after signing in with the key: %q", amr)
	}
	if st := c.text("#stepup-status"); !strings.Contains(st, "Verified with a second factor") {
		t.Fatalf("a sign-in with the key does not satisfy the step-up: %q", st)
	}
	creds = runCDP(c, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth.AuthenticatorID})
	if len(creds.Credentials) != 1 || creds.Credentials[0].SignCount <= registered {
		t.Fatalf("the key was not used for the second sign-in: %+v", creds.Credentials)
	}
}

// hasAll reports whether list holds every one of want.
func hasAll(list []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(list, w) {
			return false
		}
	}
	return true
}
