package identity

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func decodeToken(t testing.TB, body []byte) TokenResponse {
	t.Helper()
	var tr TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatalf("token response %s: %v", body, err)
	}
	return tr
}

func TestTokenSucceeds(t *testing.T) {
	f := newFixture(t, testAuthority)
	cases := []struct {
		name    string
		form    func() url.Values
		tenant  string
		wantACR string
		wantAud string
	}{
		{"client secret", f.secretForm, "", "1", "https://management.azure.com"},
		{"PS256 assertion with x5t#S256", func() url.Values { return f.assertionForm(f.assertion(t, assertionOpts{})) }, "", "2", "https://management.azure.com"},
		{"RS256 assertion with x5t", func() url.Values {
			return f.assertionForm(f.assertion(t, assertionOpts{alg: jose.RS256, thumb: "x5t"}))
		}, "", "2", "https://management.azure.com"},
		{"MSAL-style padded standard base64 thumbprint", func() url.Values {
			return f.assertionForm(f.assertion(t, assertionOpts{stdB64: true}))
		}, "", "2", "https://management.azure.com"},
		{"tenant addressed by domain", f.secretForm, "contoso.test", "1", "https://management.azure.com"},
		{"MSAL's extra OIDC scopes are ignored", func() url.Values {
			v := f.secretForm()
			v.Set("scope", "https://vault.azure.net/.default openid offline_access profile")
			return v
		}, "", "1", "https://vault.azure.net"},
		{"trailing-slash resource keeps the caller's spelling", func() url.Values {
			v := f.secretForm()
			v.Set("scope", "https://management.azure.com//.default")
			return v
		}, "", "1", "https://management.azure.com/"},
		{"application identifier URI as resource", func() url.Values {
			v := f.secretForm()
			v.Set("scope", "api://steward-test/.default")
			return v
		}, "", "1", "api://steward-test"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tenant := c.tenant
			if tenant == "" {
				tenant = f.tenant.ID
			}
			rec := f.postTo(tenant, c.form())
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			tr := decodeToken(t, rec.Body.Bytes())
			if tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 {
				t.Errorf("token_type %q expires_in %d", tr.TokenType, tr.ExpiresIn)
			}
			v := f.validator()
			v.Audiences = append(v.Audiences, "https://vault.azure.net")
			p, err := v.Validate(context.Background(), tr.AccessToken)
			if err != nil {
				t.Fatalf("issued token does not validate: %v", err)
			}
			if p.ObjectID != f.sp.ID || p.TenantID != f.tenant.ID || p.AppID != f.app.AppID || p.IdentityType != "app" {
				t.Errorf("principal = %+v", p)
			}
			var claims AccessClaims
			if err := unsafeClaims(tr.AccessToken, &claims); err != nil {
				t.Fatal(err)
			}
			if claims.AppIDACR != c.wantACR || claims.Audience != c.wantAud || claims.Version != "2.0" ||
				claims.Subject != f.sp.ID || claims.AuthorizedParty != f.app.AppID {
				t.Errorf("claims = %+v", claims)
			}
		})
	}
}

// badRequest is one token request that must fail in Entra's form.
type badRequest struct {
	name       string
	tenant     string
	form       url.Values
	advance    time.Duration // move the clock before posting
	status     int
	oauthError string
	aadsts     int
}

func badRequests(t *testing.T, f *fixture) []badRequest {
	now := f.clock.Now()
	withSecret := func(mod func(url.Values)) url.Values { v := f.secretForm(); mod(v); return v }
	withAssertion := func(o assertionOpts) url.Values { return f.assertionForm(f.assertion(t, o)) }
	other := selfSigned(t, f.key, "other", now.Add(-time.Hour), now.Add(time.Hour))
	replayed := f.assertion(t, assertionOpts{})
	if rec := f.post(f.assertionForm(replayed)); rec.Code != http.StatusOK {
		t.Fatalf("first use of assertion: %d %s", rec.Code, rec.Body)
	}
	// The same jti again with another exp is still a replay: jtis are
	// spent per jti, not per (jti, exp).
	sameJTI := f.assertion(t, assertionOpts{jti: "reused-jti", exp: now.Add(4 * time.Minute)})
	if rec := f.post(f.assertionForm(sameJTI)); rec.Code != http.StatusOK {
		t.Fatalf("first use of jti: %d %s", rec.Code, rec.Body)
	}
	both := withAssertion(assertionOpts{})
	both.Set("client_secret", f.secret)
	return []badRequest{
		{name: "same jti, another exp", form: withAssertion(assertionOpts{jti: "reused-jti", exp: now.Add(9 * time.Minute)}),
			status: 401, oauthError: "invalid_client", aadsts: 9900001},
		{name: "assertion valid for a year", form: withAssertion(assertionOpts{exp: now.AddDate(1, 0, 0)}),
			status: 401, oauthError: "invalid_client", aadsts: 700024},
		{name: "assertion valid for 16 minutes", form: withAssertion(assertionOpts{exp: now.Add(16 * time.Minute)}),
			status: 401, oauthError: "invalid_client", aadsts: 700024},
		{name: "secret and assertion together", form: both,
			status: 400, oauthError: "invalid_request", aadsts: 9900002},
		{name: "tenant of 5,000 characters", tenant: strings.Repeat("t", 5000), form: f.secretForm(),
			status: 400, oauthError: "invalid_request", aadsts: 900023},
		{name: "tenant with a NUL", tenant: "a%00b", form: f.secretForm(),
			status: 400, oauthError: "invalid_request", aadsts: 900023},
		{name: "client_id of 60,000 characters", form: withSecret(func(v url.Values) { v.Set("client_id", strings.Repeat("c", 60000)) }),
			status: 400, oauthError: "unauthorized_client", aadsts: 700016},
		{name: "client_id with a NUL", form: withSecret(func(v url.Values) { v.Set("client_id", f.app.AppID+"\x00") }),
			status: 400, oauthError: "unauthorized_client", aadsts: 700016},
		{name: "wrong secret", form: withSecret(func(v url.Values) { v.Set("client_secret", "nope") }),
			status: 401, oauthError: "invalid_client", aadsts: 7000215},
		{name: "expired secret", form: f.secretForm(), advance: 25 * time.Hour,
			status: 401, oauthError: "invalid_client", aadsts: 7000222},
		{name: "unknown client", form: withSecret(func(v url.Values) { v.Set("client_id", "00000000-0000-0000-0000-000000000001") }),
			status: 400, oauthError: "unauthorized_client", aadsts: 700016},
		{name: "unknown tenant", tenant: "00000000-0000-0000-0000-00000000dead", form: f.secretForm(),
			status: 400, oauthError: "invalid_request", aadsts: 90002},
		{name: "missing grant_type", form: withSecret(func(v url.Values) { v.Del("grant_type") }),
			status: 400, oauthError: "invalid_request", aadsts: 900144},
		{name: "unsupported grant", form: withSecret(func(v url.Values) { v.Set("grant_type", "password") }),
			status: 400, oauthError: "unsupported_grant_type", aadsts: 70003},
		{name: "missing client_id", form: withSecret(func(v url.Values) { v.Del("client_id") }),
			status: 400, oauthError: "invalid_request", aadsts: 900144},
		{name: "missing scope", form: withSecret(func(v url.Values) { v.Del("scope") }),
			status: 400, oauthError: "invalid_request", aadsts: 900144},
		{name: "scope without /.default", form: withSecret(func(v url.Values) { v.Set("scope", "https://management.azure.com/user_impersonation") }),
			status: 400, oauthError: "invalid_scope", aadsts: 1002012},
		{name: "two resources", form: withSecret(func(v url.Values) {
			v.Set("scope", "https://management.azure.com/.default https://vault.azure.net/.default")
		}),
			status: 400, oauthError: "invalid_scope", aadsts: 28000},
		{name: "unknown resource", form: withSecret(func(v url.Values) { v.Set("scope", "https://unknown.example/.default") }),
			status: 400, oauthError: "invalid_resource", aadsts: 500011},
		{name: "no credential", form: withSecret(func(v url.Values) { v.Del("client_secret") }),
			status: 401, oauthError: "invalid_client", aadsts: 7000216},
		{name: "wrong assertion type", form: func() url.Values {
			v := withAssertion(assertionOpts{})
			v.Set("client_assertion_type", "urn:other")
			return v
		}(), status: 400, oauthError: "invalid_request", aadsts: 50027},
		{name: "malformed assertion", form: f.assertionForm("not.a.jwt"),
			status: 400, oauthError: "invalid_request", aadsts: 50027},
		{name: "expired assertion", form: withAssertion(assertionOpts{nbf: now.Add(-30 * time.Minute), exp: now.Add(-20 * time.Minute)}),
			status: 401, oauthError: "invalid_client", aadsts: 700024},
		{name: "assertion not yet valid", form: withAssertion(assertionOpts{nbf: now.Add(20 * time.Minute), exp: now.Add(30 * time.Minute)}),
			status: 401, oauthError: "invalid_client", aadsts: 700024},
		{name: "replayed assertion", form: f.assertionForm(replayed),
			status: 401, oauthError: "invalid_client", aadsts: 9900001},
		{name: "wrong audience", form: withAssertion(assertionOpts{aud: "https://login.microsoftonline.com/" + f.tenant.ID + "/oauth2/v2.0/token"}),
			status: 401, oauthError: "invalid_client", aadsts: 700023},
		{name: "issuer is not the client", form: withAssertion(assertionOpts{iss: "someone-else"}),
			status: 401, oauthError: "invalid_client", aadsts: 700021},
		{name: "subject is not the client", form: withAssertion(assertionOpts{sub: "someone-else"}),
			status: 401, oauthError: "invalid_client", aadsts: 700021},
		{name: "unregistered certificate", form: withAssertion(assertionOpts{cert: other}),
			status: 401, oauthError: "invalid_client", aadsts: 700027},
		{name: "certificate credential past its end date", form: withAssertion(assertionOpts{}), advance: 49 * time.Hour,
			status: 401, oauthError: "invalid_client", aadsts: 700027},
		{name: "no thumbprint header", form: withAssertion(assertionOpts{thumb: "none"}),
			status: 401, oauthError: "invalid_client", aadsts: 50027},
		{name: "signature by another key", form: withAssertion(assertionOpts{key: otherKey(t)}),
			status: 401, oauthError: "invalid_client", aadsts: 700027},
	}
}

func TestTokenRejectsBadRequestsInEntraForm(t *testing.T) {
	f := newFixture(t, testAuthority)
	for _, c := range badRequests(t, f) {
		t.Run(c.name, func(t *testing.T) {
			// Each case starts without the failures of the others, which
			// would lock the client out (TestRepeatedFailuresLockTheClientOut).
			f.svc.lockouts = lockouts{}
			if c.advance != 0 {
				f.clock.Add(c.advance)
				defer f.clock.Add(-c.advance)
			}
			tenant := c.tenant
			if tenant == "" {
				tenant = f.tenant.ID
			}
			rec := f.postTo(tenant, c.form)
			if rec.Code != c.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			if body["error"] != c.oauthError {
				t.Errorf("error = %v, want %s", body["error"], c.oauthError)
			}
			codes, _ := body["error_codes"].([]any)
			if len(codes) != 1 || codes[0] != float64(c.aadsts) {
				t.Errorf("error_codes = %v, want [%d]", body["error_codes"], c.aadsts)
			}
			desc, _ := body["error_description"].(string)
			if !strings.HasPrefix(desc, "AADSTS") || !strings.Contains(desc, "Trace ID: ") {
				t.Errorf("error_description = %q", desc)
			}
			for _, k := range []string{"timestamp", "trace_id", "correlation_id"} {
				if s, _ := body[k].(string); s == "" {
					t.Errorf("%s missing", k)
				}
			}
			if strings.Contains(rec.Body.String(), f.secret) {
				t.Error("response echoes the client secret")
			}
		})
	}
}

func TestTokenEndpointRejectsWrongMethodAndContentType(t *testing.T) {
	f := newFixture(t, testAuthority)
	req := newRequest(http.MethodGet, "/"+f.tenant.ID+"/oauth2/v2.0/token", "", "")
	rec := serve(f.svc.Handler(), req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "900561") {
		t.Errorf("GET: status %d %s", rec.Code, rec.Body)
	}
	req = newRequest(http.MethodPost, "/"+f.tenant.ID+"/oauth2/v2.0/token", "application/json", `{"grant_type":"client_credentials"}`)
	rec = serve(f.svc.Handler(), req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("JSON body: status %d", rec.Code)
	}
	big := "grant_type=client_credentials&pad=" + strings.Repeat("a", maxTokenRequestBytes)
	req = newRequest(http.MethodPost, "/"+f.tenant.ID+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", big)
	rec = serve(f.svc.Handler(), req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("oversized body: status %d", rec.Code)
	}
}

func TestDisabledServicePrincipalGetsNoToken(t *testing.T) {
	f := newFixture(t, testAuthority)
	f.sp.AccountEnabled = false
	if err := f.svc.Directory().PutServicePrincipal(context.Background(), f.sp); err != nil {
		t.Fatal(err)
	}
	rec := f.post(f.secretForm())
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "7000112") {
		t.Errorf("status %d body %s", rec.Code, rec.Body)
	}
}

func TestTokenAcceptsClientSecretBasic(t *testing.T) {
	f := newFixture(t, testAuthority)
	cases := []struct {
		name     string
		user     string
		pass     string
		formID   string
		wantCode int
	}{
		{"basic only", f.app.AppID, f.secret, "", http.StatusOK},
		{"basic with matching client_id", f.app.AppID, f.secret, f.app.AppID, http.StatusOK},
		{"basic naming another client", f.app.AppID, f.secret, "00000000-0000-0000-0000-000000000002", http.StatusUnauthorized},
		{"basic with wrong secret", f.app.AppID, "wrong", "", http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}, "scope": {"https://management.azure.com/.default"}}
			if c.formID != "" {
				form.Set("client_id", c.formID)
			}
			req := newRequest(http.MethodPost, "/"+f.tenant.ID+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", form.Encode())
			req.SetBasicAuth(url.QueryEscape(c.user), url.QueryEscape(c.pass))
			if rec := serve(f.svc.Handler(), req); rec.Code != c.wantCode {
				t.Errorf("status %d, want %d: %s", rec.Code, c.wantCode, rec.Body)
			}
		})
	}
}

func TestObserveSeesEveryTokenRequest(t *testing.T) {
	f := newFixture(t, testAuthority)
	var got []TokenOutcome
	f.svc.opts.Observe = func(o TokenOutcome) { got = append(got, o) }
	f.post(f.secretForm())
	bad := f.secretForm()
	bad.Set("client_secret", "wrong")
	f.post(bad)
	f.post(f.assertionForm(f.assertion(t, assertionOpts{})))
	f.post(url.Values{})
	want := []TokenOutcome{{"secret", 0}, {"secret", 7000215}, {"assertion", 0}, {"none", 900144}}
	if len(got) != len(want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("outcome %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestSpentJTIsArePrunedOnlyWhenNoReuseCanBeAccepted(t *testing.T) {
	f := newFixture(t, testAuthority)
	ctx := context.Background()
	start := f.clock.Now()
	first := f.assertion(t, assertionOpts{jti: "once", exp: start.Add(MaxAssertionLifetime)})
	if rec := f.post(f.assertionForm(first)); rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	// Until the last moment an assertion with this jti could be accepted
	// (exp at most MaxAssertionLifetime ahead, plus the skew on each
	// side), pruning keeps the record and a reuse with a fresh exp is a
	// replay.
	for _, at := range []time.Duration{0, 5 * time.Minute, f.svc.jtiWindow() - time.Second} {
		f.clock.Set(start.Add(at))
		if _, err := f.svc.PruneAssertions(ctx); err != nil {
			t.Fatal(err)
		}
		again := f.assertion(t, assertionOpts{jti: "once", exp: f.clock.Now().Add(MaxAssertionLifetime)})
		if rec := f.post(f.assertionForm(again)); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "9900001") {
			t.Fatalf("reuse %v later: %d %s", at, rec.Code, rec.Body)
		}
		// The original has expired by now, or is a replay.
		if rec := f.post(f.assertionForm(first)); rec.Code == http.StatusOK {
			t.Fatalf("original accepted again %v later", at)
		}
	}
	// Two windows on, every record is gone and the table is empty.
	f.clock.Set(start.Add(2*f.svc.jtiWindow() + time.Second))
	if n, err := f.svc.PruneAssertions(ctx); err != nil || n == 0 {
		t.Fatalf("pruned %d, %v; want the records of the first use", n, err)
	}
	if left, err := f.svc.dir.recs.List(ctx, tableJTI, ""); err != nil || len(left) != 0 {
		t.Fatalf("%d records left after pruning, %v", len(left), err)
	}
}

func TestTokenCalledDirectlyUsesTheConfiguredAuthority(t *testing.T) {
	f := newFixture(t, testAuthority)
	resp, err := f.svc.Token(context.Background(), TokenRequest{Tenant: f.tenant.ID, ClientID: f.app.AppID,
		ClientSecret: f.secret, Scope: "https://management.azure.com/.default"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.validator().Validate(context.Background(), resp.AccessToken); err != nil {
		t.Error(err)
	}
	bare := NewService(NewMemRecords(), Options{})
	if _, err := bare.Token(context.Background(), TokenRequest{Tenant: "x"}); err == nil {
		t.Error("a service without authority issued a token")
	}
}
