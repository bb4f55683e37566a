package server

import (
	"context"
	"crypto/tls"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"

	"github.com/steward-gov/steward/internal/rbac"
)

// consoleBrowser follows redirects itself and fills in forms, as a person
// with a browser would.
type consoleBrowser struct {
	t    testing.TB
	c    *http.Client
	base string
}

type consolePage struct {
	status int
	body   string
	url    string
}

func (b *consoleBrowser) do(req *http.Request) consolePage {
	b.t.Helper()
	for range 10 {
		resp, err := b.c.Do(req)
		if err != nil {
			b.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			return consolePage{status: resp.StatusCode, body: string(body), url: req.URL.String()}
		}
		next, err := req.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			b.t.Fatal(err)
		}
		req, _ = http.NewRequest(http.MethodGet, next.String(), nil)
	}
	b.t.Fatal("too many redirects")
	return consolePage{}
}

func (b *consoleBrowser) get(path string) consolePage {
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

var formField = regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`)

// securityKeyForm is the sign-in pages' security-key form, which only its
// script submits; this browser has no security key and submits the other.
var securityKeyForm = regexp.MustCompile(`(?s)<form[^>]* id="webauthn".*?</form>`)

func (b *consoleBrowser) submit(p consolePage, extra url.Values) consolePage {
	b.t.Helper()
	form := url.Values{}
	for _, m := range formField.FindAllStringSubmatch(securityKeyForm.ReplaceAllString(p.body, ""), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
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

func TestConsoleSignInRBACAndStepUp(t *testing.T) {
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), WebService())
	ctx := context.Background()
	user, err := s.Identity.CreateUser(ctx, s.Bootstrap.TenantID, "dana@steward.test", "Dana", "Dana-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	b := &consoleBrowser{t: t, base: strings.TrimSuffix(s.BaseURL, "/"), c: &http.Client{Jar: jar,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool()}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	p := b.get("/console/")
	if !strings.Contains(p.body, `name="passwd"`) {
		t.Fatalf("the console did not send the browser to sign in: %d %s\n%.300s", p.status, p.url, p.body)
	}
	p = b.submit(p, url.Values{"login": {"dana@steward.test"}, "passwd": {"Dana-Password-1"}})
	if p.status != 200 || !strings.Contains(p.body, "None: you have no role") {
		t.Fatalf("overview without a role: %d %s\n%.500s", p.status, p.url, p.body)
	}
	if csp := "default-src 'none'"; !strings.Contains(p.body, "Dana") {
		t.Fatalf("no user name on the page (%s)", csp)
	}

	// A Reader on the subscription sees it: the management API's RBAC
	// decides, with the user's own token.
	assignReader(t, s, dir, user.ID)
	if p = b.get("/console/"); !strings.Contains(p.body, s.Bootstrap.SubscriptionID) {
		t.Fatalf("a Reader does not see the subscription:\n%.600s", p.body)
	}

	// Step-up: without a second factor the security page says so; the
	// step-up link enrols an authenticator app and comes back verified.
	if p = b.get("/console/security"); !strings.Contains(p.body, "need a recent second factor") {
		t.Fatalf("security page before step-up:\n%.500s", p.body)
	}
	p = b.get("/console/signin?stepup=1&return=/console/security")
	m := regexp.MustCompile(`<code id="secret">([A-Z2-7 ]+)</code>`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("step-up did not ask to enrol: %d %s\n%.500s", p.status, p.url, p.body)
	}
	code, _ := totp.GenerateCode(strings.ReplaceAll(m[1], " ", ""), time.Now())
	p = b.submit(p, url.Values{"otc": {code}}) // recovery codes
	p = b.submit(p, nil)
	if !strings.Contains(p.body, "Verified with a second factor") {
		t.Fatalf("after step-up: %d %s\n%.500s", p.status, p.url, p.body)
	}

	// A form without the session's CSRF token is refused.
	req, _ := http.NewRequest(http.MethodPost, b.base+"/console/signout", strings.NewReader("csrf=forged"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p = b.do(req); p.status != http.StatusForbidden {
		t.Fatalf("forged sign-out: %d", p.status)
	}
}

// assignReader makes principalID a Reader of the home subscription, as the
// administrator, through the Azure SDK.
func assignReader(t testing.TB, s *Steward, dir, principalID string) {
	t.Helper()
	admin := adminCredential(t, dir, s.ARMClientOptions())
	ras, _ := armauthorization.NewRoleAssignmentsClient(s.Bootstrap.SubscriptionID, admin, &azarm.ClientOptions{ClientOptions: s.ARMClientOptions()})
	scope := "/subscriptions/" + s.Bootstrap.SubscriptionID
	if _, err := ras.Create(context.Background(), scope, uuid.NewString(), armauthorization.RoleAssignmentCreateParameters{
		Properties: &armauthorization.RoleAssignmentProperties{PrincipalID: to.Ptr(principalID),
			RoleDefinitionID: to.Ptr(scope + "/providers/Microsoft.Authorization/roleDefinitions/" + rbac.ReaderRoleID)}}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleVendingAsUser reads the vending page as a signed-in user: the
// console redeems the session's refresh token for the vending API (it is
// pre-authorized on its user_impersonation scope) and lists the user's
// requests, none yet.
func TestConsoleVendingAsUser(t *testing.T) {
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(vendingSetup), VaultService(VaultOptions{}), StorageService(),
		VendingService(VendingOptions{}), WebService())
	if _, err := s.Identity.CreateUser(context.Background(), s.Bootstrap.TenantID, "gil@steward.test", "Gil", "Gil-Password-1"); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	b := &consoleBrowser{t: t, base: strings.TrimSuffix(s.BaseURL, "/"), c: &http.Client{Jar: jar,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool()}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	p := b.get("/console/vending")
	p = b.submit(p, url.Values{"login": {"gil@steward.test"}, "passwd": {"Gil-Password-1"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "You have made no request") || strings.Contains(p.body, "could not be read") {
		t.Fatalf("vending page: %d %s\n%.800s", p.status, p.url, p.body)
	}
}

// TestConsoleAlertsAndLogsAsReader reads the alerts and logs pages of a
// served Steward as a Reader: the AlertsManagement API answers with the
// user's ARM token (no alert yet), and a query runs on a workspace with a
// Log Analytics token redeemed from the user's refresh token.
func TestConsoleAlertsAndLogsAsReader(t *testing.T) {
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService(), LogsService(), AlertsService(AlertsOptions{Disabled: true}), WebService())
	e := newLogsEnvFor(t, s, dir)
	rg := "/subscriptions/" + e.sub + "/resourceGroups/console"
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	ws := rg + "/providers/Microsoft.OperationalInsights/workspaces/ops"
	e.mustARM(t, "PUT", ws, "2022-10-01", map[string]any{"location": "eastus", "properties": map[string]any{}})
	user, err := s.Identity.CreateUser(context.Background(), s.Bootstrap.TenantID, "hal@steward.test", "Hal", "Hal-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	assignReader(t, s, dir, user.ID)
	jar, _ := cookiejar.New(nil)
	b := &consoleBrowser{t: t, base: strings.TrimSuffix(s.BaseURL, "/"), c: &http.Client{Jar: jar,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool()}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	p := b.submit(b.get("/console/alerts"), url.Values{"login": {"hal@steward.test"}, "passwd": {"Hal-Password-1"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "No alert in the last 30 days") || strings.Contains(p.body, "could not be read") {
		t.Fatalf("alerts page: %d %s\n%.800s", p.status, p.url, p.body)
	}
	p = b.get("/console/kql")
	if !strings.Contains(p.body, `value="`+ws+`"`) {
		t.Fatalf("the workspace is not offered:\n%.800s", p.body)
	}
	p = b.submit(p, url.Values{"workspace": {ws}, "timespan": {"P1D"}, "query": {"range x from 1 to 3 step 1 | extend Kind = strcat(\"k\", x) | project Kind, x | render piechart"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "k3: 3 (50.0%)") {
		t.Fatalf("query: %d\n%.1500s", p.status, p.body)
	}
}
