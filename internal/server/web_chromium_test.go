package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// chromium is Debian's headless browser; the test skips without it.
const chromium = "/usr/bin/chromium"

// TestConsoleInHeadlessChromium signs a user in to the console in a real
// browser: the password, a TOTP enrolment for step-up with a wrong code
// first and then the right one, and the overview listing the subscription
// the user is a Reader of. Screenshots go to $STEWARD_E2E_ARTIFACTS (or the
// test's temporary directory).
func TestConsoleInHeadlessChromium(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no " + chromium + " (Debian: apt-get install chromium; .ci/run installs it); skipping the browser test")
	}
	artifacts := os.Getenv("STEWARD_E2E_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), LogsService(), WebService())
	e := newLogsEnvFor(t, s, dir)
	rg := "/subscriptions/" + e.sub + "/resourceGroups/console"
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	e.mustARM(t, "PUT", rg+"/providers/Microsoft.OperationalInsights/workspaces/ops", "2022-10-01", map[string]any{"location": "eastus", "properties": map[string]any{}})
	ctx := context.Background()
	user, err := s.Identity.CreateUser(ctx, s.Bootstrap.TenantID, "erin@steward.test", "Erin", "Erin-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	assignReader(t, s, dir, user.ID)

	// Chromium does not read Steward's CA from a file; the test browser
	// talks only to this loopback server, so it skips certificate checks.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.IgnoreCertErrors, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 900))
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	// The first call starts the browser for the life of bctx (no timeout
	// on it); each later step is bounded.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatal(err)
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	shot := func(name string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(artifacts, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := strings.TrimSuffix(s.BaseURL, "/")
	do(chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS("#passwd")))
	shot("01-sign-in")
	do(chromedp.SendKeys(chromedp.CSS("#login"), "erin@steward.test"),
		chromedp.SendKeys(chromedp.CSS("#passwd"), "Erin-Password-1"),
		chromedp.Submit(chromedp.CSS("#passwd")),
		chromedp.WaitVisible(chromedp.CSS("table")))
	if overview := text("main"); !strings.Contains(overview, s.Bootstrap.SubscriptionID) {
		t.Fatalf("the overview does not list the subscription:\n%s", overview)
	}
	shot("02-overview")
	do(chromedp.Navigate(base+"/console/signin?stepup=1&return=/console/security"), chromedp.WaitVisible(chromedp.CSS("#secret")))
	secret := text("#secret")
	shot("03-enrol-totp")
	do(chromedp.SendKeys(chromedp.CSS("#otc"), "000000"), chromedp.Submit(chromedp.CSS("#otc")), chromedp.WaitVisible(chromedp.CSS(".error")))
	if wrong := text(".error"); !strings.Contains(wrong, "didn't work") {
		t.Fatalf("a wrong code was not refused: %q", wrong)
	}
	shot("04-wrong-code")
	code, err := totp.GenerateCode(strings.ReplaceAll(secret, " ", ""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	do(chromedp.SendKeys(chromedp.CSS("#otc"), code), chromedp.Submit(chromedp.CSS("#otc")), chromedp.WaitVisible(chromedp.CSS("#recovery")))
	shot("05-recovery-codes")
	do(chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#stepup-status")))
	if security := text("#stepup-status"); !strings.Contains(security, "Verified with a second factor") {
		t.Fatalf("after the code: %q", security)
	}
	shot("06-stepped-up")

	// A KQL query as the Reader, and its chart drawn from render.
	do(chromedp.Navigate(base+"/console/kql"), chromedp.WaitVisible(chromedp.CSS("#query")),
		chromedp.SendKeys(chromedp.CSS("#query"), "range t from datetime(2026-12-01) to datetime(2026-12-02) step 1h | extend n = hourofday(t) * 2 | render timechart"),
		chromedp.Submit(chromedp.CSS("#query")), chromedp.WaitVisible(chromedp.CSS("#chart")))
	sctx, cancel := context.WithTimeout(bctx, 30*time.Second)
	defer cancel()
	lines, err := chromedp.Run(sctx, chromedp.Nodes(chromedp.CSS("#chart polyline")))
	if err != nil || len(lines) != 1 {
		t.Fatalf("the timechart has %d lines (%v):\n%s", len(lines), err, text("main"))
	}
	if table := text("table"); !strings.Contains(table, "25 of 25 rows") {
		t.Errorf("the result table: %q", table)
	}
	shot("07-kql-timechart")
	t.Logf("screenshots in %s", artifacts)
}
