package interop

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// b2cTenant is the B2C directory the seed 002 tests set up: a tenant
// named contosob2c.onmicrosoft.com with the sample's four user flows, its
// web API (Accounts.Read, Accounts.Write), a web app consented to them,
// and a user.
type b2cTenant struct {
	Name, TenantID         string
	APIClientID            string
	WebClientID, WebSecret string
	User, Password         string
}

// b2cFlows are seed 002's user flows: sign-up or sign-in with and without
// MFA, profile edit and password reset.
var b2cFlows = []map[string]any{
	{"id": "signupsignin1", "userFlowType": "signUpOrSignIn", "userFlowTypeVersion": 3},
	{"id": "B2C_1_signupsignin1_mfa", "userFlowType": "signUpOrSignIn", "userFlowTypeVersion": 3, "multifactorAuthentication": "always"},
	{"id": "profileediting1", "userFlowType": "profileUpdate", "userFlowTypeVersion": 3},
	{"id": "passwordreset1", "userFlowType": "passwordReset", "userFlowTypeVersion": 3},
}

// tokenFor gets a token with the client credentials grant.
func tokenFor(t *testing.T, s *served, client *http.Client, tenant, id, secret, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {scope}}
	resp, err := client.Post(s.BaseURL+tenant+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

// call sends a JSON request with a bearer token and decodes the answer,
// failing the test unless the status is want.
func call(t *testing.T, client *http.Client, token, method, u string, body any, want int) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, u, resp.StatusCode, want, b)
	}
	out := map[string]any{}
	_ = json.Unmarshal(b, &out)
	return out
}

// setUpB2C creates the B2C tenant through Steward's API (a tenant, then
// Graph as its administrator) with redirect URIs under webBase.
func setUpB2C(t *testing.T, s *served, webBase string) b2cTenant {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool()}}, Timeout: time.Minute}
	home := tokenFor(t, s, client, s.Info.TenantID, s.Info.ClientID, s.Info.ClientSecret, "https://graph.microsoft.com/.default")
	nt := call(t, client, home, "POST", s.BaseURL+"steward/tenants",
		map[string]any{"displayName": "Contoso B2C", "domains": []string{"contosob2c.onmicrosoft.com"}}, http.StatusCreated)
	b := b2cTenant{Name: "contosob2c", TenantID: nt["tenantId"].(string), User: "marge@contosob2c.onmicrosoft.com", Password: "Spr1ngfield-Pass!"}
	tok := tokenFor(t, s, client, b.TenantID, nt["clientId"].(string), nt["clientSecret"].(string), "https://graph.microsoft.com/.default")
	g := s.BaseURL + "graph/v1.0/"
	readID, writeID := "3c5b2b2e-9f3a-4c35-8f0e-7f6c1f1b0a01", "3c5b2b2e-9f3a-4c35-8f0e-7f6c1f1b0a02"
	api := call(t, client, tok, "POST", g+"applications", map[string]any{
		"displayName": "python-b2c-api", "identifierUris": []string{"https://contosob2c.onmicrosoft.com/api"},
		"api": map[string]any{"oauth2PermissionScopes": []map[string]any{
			{"id": readID, "value": "Accounts.Read", "type": "Admin", "isEnabled": true, "adminConsentDisplayName": "Read accounts", "adminConsentDescription": "Read the user's accounts."},
			{"id": writeID, "value": "Accounts.Write", "type": "Admin", "isEnabled": true, "adminConsentDisplayName": "Write accounts", "adminConsentDescription": "Change the user's accounts."},
		}},
	}, http.StatusCreated)
	b.APIClientID = api["appId"].(string)
	apiSP := call(t, client, tok, "POST", g+"servicePrincipals", map[string]any{"appId": b.APIClientID}, http.StatusCreated)
	web := call(t, client, tok, "POST", g+"applications", map[string]any{
		"displayName": "python-b2c-web",
		"web":         map[string]any{"redirectUris": []string{webBase + "/getAToken", webBase + "/getATokenMFA", webBase + "/callback", webBase + "/callback-mfa"}},
	}, http.StatusCreated)
	b.WebClientID = web["appId"].(string)
	pw := call(t, client, tok, "POST", g+"applications/"+web["id"].(string)+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "web"}}, http.StatusOK)
	b.WebSecret = pw["secretText"].(string)
	webSP := call(t, client, tok, "POST", g+"servicePrincipals", map[string]any{"appId": b.WebClientID}, http.StatusCreated)
	// "Grant admin consent for Contoso B2C".
	call(t, client, tok, "POST", g+"oauth2PermissionGrants", map[string]any{"clientId": webSP["id"], "consentType": "AllPrincipals",
		"resourceId": apiSP["id"], "scope": "Accounts.Read Accounts.Write"}, http.StatusCreated)
	call(t, client, tok, "POST", g+"users", map[string]any{"accountEnabled": true, "displayName": "Marge Simpson", "givenName": "Marge", "surname": "Simpson",
		"userPrincipalName": b.User, "mailNickname": "marge", "mail": b.User,
		"passwordProfile": map[string]any{"password": b.Password, "forceChangePasswordNextSignIn": false}}, http.StatusCreated)
	for _, f := range b2cFlows {
		call(t, client, tok, "POST", s.BaseURL+"graph/beta/identity/b2cUserFlows", f, http.StatusCreated)
	}
	return b
}

// browser is an HTTP client that acts as a browser for these tests: it
// keeps cookies, follows redirects, reaches *.b2clogin.com through
// Steward's proxy (trusting Steward's CA) and loopback directly.
type browser struct {
	t      *testing.T
	c      *http.Client
	last   string // the last page's URL
	stepUp bool   // a second factor was asked for
}

func newBrowser(t *testing.T, s *served) *browser {
	proxy, err := url.Parse(s.ProxyURL)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool()}, Proxy: func(r *http.Request) (*url.URL, error) {
		if h := r.URL.Hostname(); h == "127.0.0.1" || h == "localhost" {
			return nil, nil
		}
		return proxy, nil
	}}
	return &browser{t: t, c: &http.Client{Transport: tr, Jar: jar, Timeout: 2 * time.Minute}}
}

// do sends a request, follows redirects and returns the final page.
func (b *browser) do(method, u string, form url.Values) string {
	b.t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = b.c.PostForm(u, form)
	} else {
		resp, err = b.c.Get(u)
	}
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last = resp.Request.URL.String()
	if resp.StatusCode >= 400 {
		b.t.Fatalf("%s %s: %d at %s: %s", method, u, resp.StatusCode, b.last, body)
	}
	return string(body)
}

var (
	hiddenInput = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*>`)
	attrRe      = regexp.MustCompile(`(name|value)="([^"]*)"`)
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	secretCode  = regexp.MustCompile(`<code id="secret">([^<]*)</code>`)
)

// hidden returns the hidden inputs of page.
func hidden(page string) url.Values {
	v := url.Values{}
	for _, in := range hiddenInput.FindAllString(page, -1) {
		var name, value string
		for _, m := range attrRe.FindAllStringSubmatch(in, -1) {
			if m[1] == "name" {
				name = html.UnescapeString(m[2])
			} else {
				value = html.UnescapeString(m[2])
			}
		}
		if name != "" && v.Get(name) == "" {
			v.Set(name, value)
		}
	}
	return v
}

// submit posts Steward's sign-in form on page with the given fields.
func (b *browser) submit(page string, fields url.Values) string {
	b.t.Helper()
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no form on the page at %s: %.2000s", b.last, page)
	}
	base, _ := url.Parse(b.last)
	target, err := base.Parse(html.UnescapeString(m[1]))
	if err != nil {
		b.t.Fatal(err)
	}
	form := hidden(page)
	for k, v := range fields {
		form[k] = v
	}
	return b.do(http.MethodPost, target.String(), form)
}

// signIn answers Steward's pages until the browser leaves
// *.b2clogin.com: the sign-in form, TOTP enrolment (recording the
// secret in *secret), a verification code, the recovery codes.
func (b *browser) signIn(page, user, password string, secret *string) string {
	b.t.Helper()
	for range 8 {
		if !strings.Contains(b.last, ".b2clogin.com/") {
			return page
		}
		switch {
		case strings.Contains(page, `name="passwd"`):
			page = b.submit(page, url.Values{"action": {"signin"}, "login": {user}, "passwd": {password}})
		case strings.Contains(page, `value="enroll"`):
			b.stepUp = true
			m := secretCode.FindStringSubmatch(page)
			if m == nil {
				b.t.Fatalf("enrolment page without a key: %.2000s", page)
			}
			*secret = strings.ReplaceAll(m[1], " ", "")
			page = b.submit(page, url.Values{"otc": {code(b.t, *secret)}})
		case strings.Contains(page, `value="mfa"`):
			b.stepUp = true
			page = b.submit(page, url.Values{"otc": {code(b.t, *secret)}})
		case strings.Contains(page, `value="continue"`):
			page = b.submit(page, nil)
		default:
			b.t.Fatalf("unexpected page at %s: %.3000s", b.last, page)
		}
	}
	b.t.Fatalf("still at %s after 8 pages", b.last)
	return ""
}

func code(t *testing.T, secret string) string {
	c, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startApp runs cmd in dir with env and waits until base answers.
func startApp(t *testing.T, s *served, name, dir, base string, env []string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir, cmd.Env = dir, env
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("%s exited: %s", name, out.String())
		default:
		}
		resp, err := http.Get(base + "/")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer at %s: %v\n%s", name, base, err, out.String())
		}
		time.Sleep(200 * time.Millisecond) // polling for the child to listen
	}
}

// seed002Dir is where scripts/fetch-seed-code.sh places seed 002's sample.
func seed002Dir(t *testing.T) string {
	dir := os.Getenv("STEWARD_SEED002_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "python-b2c-sample")
	}
	if _, err := os.Stat(filepath.Join(dir, "python-b2c-web", "app.py")); err != nil {
		t.Skipf("seed 002's sample is not at %s (run scripts/fetch-seed-code.sh, or set STEWARD_SEED002_DIR)", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestSeed002B2CSampleUnmodified runs seed 002's published Flask web app
// and API (mattfeltonma/python-b2c-sample) against Steward with only their
// environment variables set: the web app signs a user in through the
// B2C_1_signupsignin1 user flow at contosob2c.b2clogin.com (through
// Steward's proxy), shows the account from the API (which checks the
// token's signature against the flow's keys, its issuer, audience and
// scp), and steps up through B2C_1_signupsignin1_mfa to change the
// beneficiary. "Forgot your password?" returns AADB2C90118 to the app.
func TestSeed002B2CSampleUnmodified(t *testing.T) {
	sample := seed002Dir(t)
	// Debian's packages: python3-flask python3-flask-cors
	// python3-flask-session python3-flaskext.wtf python3-msal python3-jose
	// python3-requests python3-six.
	py := pythonWith(t, "flask", "flask_cors", "flask_session", "flask_wtf", "wtforms", "msal", "jose", "requests", "six")
	s := serve(t)
	webPort, apiPort := freePort(t), freePort(t)
	webBase, apiBase := fmt.Sprintf("http://127.0.0.1:%d", webPort), fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	b2c := setUpB2C(t, s, webBase)

	// Each app runs in a directory of its own: the API rewrites
	// accounts.json in its working directory and Flask-Session keeps
	// sessions there, so the sample's checkout stays untouched.
	apiDir, webDir := t.TempDir(), t.TempDir()
	accounts, err := os.ReadFile(filepath.Join(sample, "python-b2c-api", "accounts.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(apiDir, "accounts.json"), accounts, 0o600); err != nil {
		t.Fatal(err)
	}
	base := s.proxyEnv("secret")
	apiEnv := append(base, "B2C_DIR="+b2c.Name, "TENANT_ID="+b2c.TenantID, "CLIENT_ID="+b2c.APIClientID)
	webEnv := append(append([]string(nil), base...), "B2C_DIR="+b2c.Name, "CLIENT_ID="+b2c.WebClientID,
		"CLIENT_SECRET="+b2c.WebSecret, "API_ENDPOINT="+apiBase)
	// `flask run` instead of `python3 app.py`: the apps' __main__ binds
	// 0.0.0.0:5000 and :5001, which parallel tests cannot share.
	startApp(t, s, "python-b2c-api", apiDir, apiBase, apiEnv, py, "-m", "flask", "--app",
		filepath.Join(sample, "python-b2c-api", "app.py"), "run", "--host", "127.0.0.1", "--port", fmt.Sprint(apiPort))
	startApp(t, s, "python-b2c-web", webDir, webBase, webEnv, py, "-m", "flask", "--app",
		filepath.Join(sample, "python-b2c-web", "app.py"), "run", "--host", "127.0.0.1", "--port", fmt.Sprint(webPort))

	br := newBrowser(t, s)
	defer func() {
		if t.Failed() {
			t.Logf("Steward's log:\n%s", s.logs.String())
		}
	}()
	authURL := regexp.MustCompile(`<a class="active" href='([^']*)'>Sign-In</a>`)
	login := br.do("GET", webBase+"/login", nil)
	m := authURL.FindStringSubmatch(login)
	if m == nil {
		t.Fatalf("no sign-in link on the login page: %s", login)
	}
	auth := html.UnescapeString(m[1])
	if !strings.HasPrefix(auth, "https://contosob2c.b2clogin.com/contosob2c.onmicrosoft.com/b2c_1_signupsignin1/oauth2/v2.0/authorize?") {
		t.Fatalf("authorization URL %s is not the user flow's on b2clogin.com", auth)
	}

	// "Forgot your password?" sends AADB2C90118 to the app's redirect URI.
	page := br.do("GET", auth, nil)
	page = br.submit(page, url.Values{"action": {"forgot"}})
	if !strings.Contains(page, "AADB2C90118") || !strings.HasPrefix(br.last, webBase+"/getAToken") {
		t.Fatalf("forgot password: at %s: %s", br.last, page)
	}

	// Sign in through the non-MFA flow: no second factor.
	login = br.do("GET", webBase+"/login", nil)
	page = br.do("GET", html.UnescapeString(authURL.FindStringSubmatch(login)[1]), nil)
	var secret string
	page = br.signIn(page, b2c.User, b2c.Password, &secret)
	if br.stepUp {
		t.Fatal("the sign-up or sign-in flow without MFA asked for a second factor")
	}
	if !strings.Contains(page, "Welcome Marge") {
		t.Fatalf("index after sign-in (at %s) does not greet the user: %s", br.last, page)
	}
	claims := br.do("GET", webBase+"/claims", nil)
	for _, want := range []string{`"tfp": "B2C_1_signupsignin1"`, b2c.User, `"iss": "https://contosob2c.b2clogin.com/` + b2c.TenantID + `/v2.0/"`} {
		if !strings.Contains(html.UnescapeString(claims), want) {
			t.Errorf("id_token claims lack %s: %s", want, claims)
		}
	}

	// The API checks the token and scp Accounts.Read.
	acct := br.do("GET", webBase+"/acctinfo", nil)
	if !strings.Contains(acct, "Homer Simpson") {
		t.Fatalf("account page (at %s): %s", br.last, acct)
	}

	// Step up through the MFA flow, then change the beneficiary.
	page = br.do("GET", webBase+"/change", nil)
	page = br.signIn(page, b2c.User, b2c.Password, &secret)
	if !br.stepUp {
		t.Fatal("the MFA user flow did not ask for a second factor")
	}
	if !strings.HasPrefix(br.last, webBase+"/changeben") {
		t.Fatalf("after step-up at %s: %s", br.last, page)
	}
	csrf := hidden(page).Get("csrf_token")
	if csrf == "" {
		t.Fatalf("no CSRF token on the beneficiary form: %s", page)
	}
	page = br.do("POST", webBase+"/changeben", url.Values{"csrf_token": {csrf}, "beneficiary_name": {"Bart Simpson"}, "submit": {"Submit"}})
	if !strings.Contains(page, "Bart Simpson") {
		t.Fatalf("account after the change (at %s): %s", br.last, page)
	}

	// Sign-out goes through the user flow's logout endpoint.
	page = br.do("GET", webBase+"/logout", nil)
	if !strings.HasPrefix(br.last, "https://contosob2c.b2clogin.com/contosob2c.onmicrosoft.com/B2C_1_signupsignin1/oauth2/v2.0/logout") ||
		!strings.Contains(page, "You signed out") {
		t.Errorf("logout ended at %s: %.500s", br.last, page)
	}

	// The API refuses a request without a token.
	resp, err := http.Get(apiBase + "/acctinfo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatal("the API answered without a token")
	}
}

// TestB2CGoExample runs examples/b2c-go, seed 002's application written
// in Go (golang.org/x/oauth2 and go-oidc), against Steward through the
// proxy with only its environment set: sign in through the sign-up or
// sign-in flow, read the account from its API (token verified against the
// flow's keys, scp checked), then change the beneficiary, which the API
// refuses until the web app has stepped up through the MFA flow.
func TestB2CGoExample(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "b2c-go")
	build := exec.Command("go", "build", "-o", bin, "./examples/b2c-go")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/b2c-go: %v\n%s", err, out)
	}
	s := serve(t)
	webPort, apiPort := freePort(t), freePort(t)
	webBase := fmt.Sprintf("http://127.0.0.1:%d", webPort)
	b2c := setUpB2C(t, s, webBase)
	env := append(s.proxyEnv("secret"), "B2C_DIR="+b2c.Name, "TENANT_ID="+b2c.TenantID, "CLIENT_ID="+b2c.WebClientID,
		"CLIENT_SECRET="+b2c.WebSecret, "API_CLIENT_ID="+b2c.APIClientID,
		fmt.Sprintf("WEB_ADDR=127.0.0.1:%d", webPort), fmt.Sprintf("API_ADDR=127.0.0.1:%d", apiPort))
	startApp(t, s, "b2c-go", t.TempDir(), webBase, env, bin)
	defer func() {
		if t.Failed() {
			t.Logf("Steward's log:\n%s", s.logs.String())
		}
	}()

	br := newBrowser(t, s)
	page := br.do("GET", webBase+"/login", nil)
	var secret string
	page = br.signIn(page, b2c.User, b2c.Password, &secret)
	if br.stepUp || !strings.Contains(page, "Welcome Marge Simpson") {
		t.Fatalf("after sign-in (step-up asked: %v) at %s: %s", br.stepUp, br.last, page)
	}
	page = br.do("GET", webBase+"/account", nil)
	if !strings.Contains(page, "Beneficiary: Homer Simpson") {
		t.Fatalf("account at %s: %s", br.last, page)
	}
	// The change needs the MFA flow's token: the API refuses the first
	// one, the web app steps up, then the change goes through.
	page = br.do("POST", webBase+"/beneficiary", url.Values{"csrf": {hidden(page).Get("csrf")}, "name": {"Bart Simpson"}})
	page = br.signIn(page, b2c.User, b2c.Password, &secret)
	if !br.stepUp {
		t.Fatal("the change went through without the MFA user flow")
	}
	if !strings.Contains(page, "Beneficiary: Bart Simpson") {
		t.Fatalf("account after the step-up at %s: %s", br.last, page)
	}
	// Without a token the API refuses.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/accounts/me", apiPort))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API without a token: %d", resp.StatusCode)
	}
}
