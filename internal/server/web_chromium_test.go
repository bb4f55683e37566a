package server

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/steward-gov/steward/internal/identity"
)

// chromium is Debian's headless browser; the test skips without it.
const chromium = "/usr/bin/chromium"

// browserEstate is what the browser tests sign in to: a served Steward
// with the console, vending (production requests of team a's
// subscription wait for the approvers group, of which the user is the
// member) and a non-compliant network security group; the user is a
// Reader of the subscription and one production request waits.
type browserEstate struct {
	v         *vendingEnv
	estate    *consoleEstate
	user      identity.User
	approvers string
	request   string
}

func newBrowserEstate(t *testing.T, login, name, password string) *browserEstate {
	t.Helper()
	v := newVendingEnvWith(t, consoleSetup, LogsService(), WebService())
	b := &browserEstate{v: v, estate: seedConsoleEstate(t, v.s, v.dir)}
	ctx := context.Background()
	var err error
	if b.user, err = v.s.Identity.CreateUser(ctx, v.s.Bootstrap.TenantID, login, name, password); err != nil {
		t.Fatal(err)
	}
	assignReader(t, v.s, v.dir, b.user.ID)
	approvers, err := v.s.Identity.CreateGroup(ctx, v.s.Bootstrap.TenantID, "prod approvers", b.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	b.approvers = approvers.ID
	v.requireApproval(t, approvers.ID)
	b.request = v.askProd(t, "shop", approvers.ID)
	return b
}

// TestConsoleInHeadlessChromium signs a user in to the console in a real
// browser: the password, the overview listing the subscription the user is
// a Reader of, the drill-down from a non-compliant assignment to a
// resource's evaluated expressions, the approval of a vending request after
// a step-up (a TOTP enrolment with a wrong code first and then the right
// one), and a KQL query's chart. Screenshots go to $STEWARD_E2E_ARTIFACTS (or the
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
	// A served Steward with the console, vending (production requests of
	// team a's subscription wait for the approvers group) and a
	// non-compliant network security group.
	b := newBrowserEstate(t, "erin@steward.test", "Erin", "Erin-Password-1")
	v, s, e, user, requestID := b.v, b.v.s, b.estate, b.user, b.request

	c := newChromiumTab(t)
	bctx, do, text := c.ctx, c.do, c.text
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
	location := func() string {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		u, err := chromedp.Run(sctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return u
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

	// The compliance drill-down: the overview's assignment, its
	// non-compliant group, the group's evaluated expressions. Continuous
	// compliance evaluates the groups as they are written; the overview is
	// reloaded until its summary has the assignment (with a deadline).
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(text("main"), "nsg-needs-env: 1"); {
		if time.Now().After(deadline) {
			t.Fatalf("the overview shows no non-compliant assignment:\n%s", text("main"))
		}
		do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("h1")))
	}
	do(chromedp.Click(chromedp.CSS(`table.assignments a`)), chromedp.WaitVisible(chromedp.CSS("#noncompliant")))
	if list := text("#noncompliant"); !strings.Contains(list, e.nsg) || strings.Contains(list, "tagged-nsg") {
		t.Fatalf("the assignment's non-compliant resources: %q", list)
	}
	shot("03-noncompliant-resources")
	do(chromedp.Click(chromedp.CSS(`#noncompliant tbody a`)), chromedp.WaitVisible(chromedp.CSS("table.expressions")))
	if x := strings.ToLower(text("table.expressions")); !strings.Contains(x, "tags['env']") || !strings.Contains(x, "exists") {
		t.Fatalf("the evaluated expressions: %q", x)
	}
	shot("04-evaluated-expressions")
	// At a phone's width the drill-down's pages do not scroll sideways
	// (wide tables scroll in their own box).
	fits := func(page string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		ok, err := chromedp.Run(sctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		if err != nil || !ok {
			t.Errorf("the %s page is wider than a phone's screen (%v)", page, err)
		}
	}
	do(chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table.expressions")))
	fits("resource")
	shot("04b-phone-evaluated-expressions")
	do(chromedp.Click(chromedp.CSS(`main p a[href*="compliance/assignment"]`)), chromedp.WaitVisible(chromedp.CSS("#noncompliant")))
	fits("assignment")
	shot("04c-phone-noncompliant-resources")
	do(chromedp.EmulateViewport(1200, 900))

	// Approving the production request steps up first: the approval
	// form goes through the authorization endpoint with the claims
	// request, where the user enrols an authenticator app, gives a wrong
	// code and then the right one, and comes back to approve.
	do(chromedp.Navigate(base+"/console/vending"), chromedp.WaitVisible(chromedp.CSS(`button[value=approve]`)))
	shot("05-vending-pending")
	do(chromedp.SendKeys(chromedp.CSS("#reason-"+requestID), "change 42"),
		chromedp.Click(chromedp.CSS(`button[value=approve]`)), chromedp.WaitVisible(chromedp.CSS("#secret")))
	if u, err := url.Parse(location()); err != nil || !strings.HasSuffix(u.Path, "/oauth2/v2.0/authorize") ||
		!strings.Contains(u.Query().Get("claims"), `"acrs":{"essential":true,"value":"c1"}`) {
		t.Fatalf("the approval did not go through the authorization endpoint with the step-up claims: %v %v", u, err)
	}
	secret := text("#secret")
	shot("06-enrol-totp")
	do(chromedp.SendKeys(chromedp.CSS("#otc"), "000000"), chromedp.Submit(chromedp.CSS("#otc")), chromedp.WaitVisible(chromedp.CSS(".error")))
	if wrong := text(".error"); !strings.Contains(wrong, "didn't work") {
		t.Fatalf("a wrong code was not refused: %q", wrong)
	}
	shot("07-wrong-code")
	code, err := totp.GenerateCode(strings.ReplaceAll(secret, " ", ""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	do(chromedp.SendKeys(chromedp.CSS("#otc"), code), chromedp.Submit(chromedp.CSS("#otc")), chromedp.WaitVisible(chromedp.CSS("#recovery")))
	shot("08-recovery-codes")
	do(chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(`button[value=approve]`)))
	if u := location(); !strings.HasSuffix(u, "/console/vending") {
		t.Fatalf("after the step-up the browser is at %s", u)
	}
	do(chromedp.SendKeys(chromedp.CSS("#reason-"+requestID), "change 42"),
		chromedp.Click(chromedp.CSS(`button[value=approve]`)), chromedp.WaitVisible(chromedp.CSS(`p[role=status]`)))
	if done := text(`p[role=status]`); !strings.Contains(done, "The request is approved.") {
		t.Fatalf("after approving: %q\n%s", done, text("main"))
	}
	shot("09-approved")
	_, _, rec := v.call(t, v.teams[0], http.MethodGet, "/vending/v1/requests/"+requestID, nil, nil)
	if dec, _ := rec["decision"].(map[string]any); dec["by"] != user.ID || dec["approved"] != true || dec["reason"] != "change 42" {
		t.Fatalf("the request after the approval: %v", rec)
	}
	do(chromedp.Navigate(base+"/console/security"), chromedp.WaitVisible(chromedp.CSS("#stepup-status")))
	if security := text("#stepup-status"); !strings.Contains(security, "Verified with a second factor") {
		t.Fatalf("after the step-up: %q", security)
	}

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
	shot("10-kql-timechart")
	t.Logf("screenshots in %s", artifacts)
}
