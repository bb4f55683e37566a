package identity

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// oidcIssuer is a test OIDC issuer on loopback: a discovery document and
// a JWKS with one RSA key, like a CI system's token service.
type oidcIssuer struct {
	srv     *httptest.Server
	key     *rsa.PrivateKey
	kid     string
	fetches atomic.Int32
}

func newOIDCIssuer(t *testing.T) *oidcIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	o := &oidcIssuer{key: key, kid: "ci-key-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": o.srv.URL, "jwks_uri": o.srv.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		o.fetches.Add(1)
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: o.kid, Algorithm: "RS256", Use: "sig"}}})
	})
	o.srv = httptest.NewServer(mux)
	t.Cleanup(o.srv.Close)
	return o
}

// mint signs a token as the issuer (or as iss, with the issuer's key).
func (o *oidcIssuer) mint(t *testing.T, key *rsa.PrivateKey, iss, sub, aud string, exp time.Time) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", o.kid))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(map[string]any{"iss": iss, "sub": sub, "aud": aud, "exp": exp.Unix(),
		"nbf": exp.Add(-time.Hour).Unix(), "iat": exp.Add(-time.Hour).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestFederatedCredentialExchange exchanges a token of a trusted
// external issuer for a Steward access token, and refuses a wrong
// subject, audience, issuer, key or expiry with Entra's codes.
func TestFederatedCredentialExchange(t *testing.T) {
	f := newFixture(t, testAuthority)
	ci := newOIDCIssuer(t)
	rogue := newOIDCIssuer(t)
	ctx := context.Background()
	const subject = "repo:contoso/app:ref:refs/heads/main"
	if _, err := f.svc.AddFederatedCredential(ctx, f.tenant.ID, f.app.AppID, FederatedIdentityCredential{
		Name: "main-branch", Issuer: ci.srv.URL, Subject: subject}); err != nil {
		t.Fatal(err)
	}
	app, _ := f.svc.Directory().Application(ctx, f.tenant.ID, f.app.AppID)
	if got := app.FederatedIdentityCredentials[0].Audiences; len(got) != 1 || got[0] != DefaultFederatedAudience {
		t.Fatalf("default audience: %v", got)
	}
	now := f.clock.Now()
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	cases := []struct {
		name   string
		token  string
		status int
		aadsts string
	}{
		{"good", ci.mint(t, ci.key, ci.srv.URL, subject, DefaultFederatedAudience, now.Add(time.Hour)), 200, ""},
		{"wrong subject", ci.mint(t, ci.key, ci.srv.URL, "repo:contoso/app:pull_request", DefaultFederatedAudience, now.Add(time.Hour)), 400, "AADSTS700213"},
		{"wrong audience", ci.mint(t, ci.key, ci.srv.URL, subject, "api://other", now.Add(time.Hour)), 400, "AADSTS700212"},
		{"untrusted issuer", rogue.mint(t, rogue.key, rogue.srv.URL, subject, DefaultFederatedAudience, now.Add(time.Hour)), 400, "AADSTS700211"},
		{"trusted issuer, another key", ci.mint(t, otherKey, ci.srv.URL, subject, DefaultFederatedAudience, now.Add(time.Hour)), 401, "AADSTS700027"},
		{"expired", ci.mint(t, ci.key, ci.srv.URL, subject, DefaultFederatedAudience, now.Add(-time.Hour)), 401, "AADSTS700024"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.post(f.assertionForm(tc.token))
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.aadsts) {
				t.Fatalf("status %d, body %s; want %d %s", rec.Code, rec.Body, tc.status, tc.aadsts)
			}
			if tc.status != 200 {
				return
			}
			var resp TokenResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			p, err := f.validator().Validate(ctx, resp.AccessToken)
			if err != nil || p.ObjectID != f.sp.ID || p.AppID != f.app.AppID {
				t.Fatalf("exchanged token: %+v, %v", p, err)
			}
		})
	}
	if n := rogue.fetches.Load(); n != 0 {
		t.Errorf("Steward fetched the keys of an issuer no credential trusts (%d times)", n)
	}
	if n := ci.fetches.Load(); n != 1 {
		t.Errorf("the trusted issuer's keys were fetched %d times, want once (cached)", n)
	}
	// The app's own certificate assertions still work beside federation.
	if rec := f.post(f.assertionForm(f.assertion(t, assertionOpts{}))); rec.Code != 200 {
		t.Fatalf("certificate assertion next to a federated credential: %d %s", rec.Code, rec.Body)
	}
}

func TestFederatedCredentialChecks(t *testing.T) {
	ok := FederatedIdentityCredential{Name: "ci-main", Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:a/b:ref:refs/heads/main",
		Audiences: []string{DefaultFederatedAudience}}
	mod := func(f func(*FederatedIdentityCredential)) FederatedIdentityCredential {
		c := ok
		c.Audiences = append([]string(nil), ok.Audiences...)
		f(&c)
		return c
	}
	cases := []struct {
		name   string
		fic    FederatedIdentityCredential
		others []FederatedIdentityCredential
		ok     bool
	}{
		{"valid", ok, nil, true},
		{"loopback http issuer", mod(func(c *FederatedIdentityCredential) { c.Issuer = "http://127.0.0.1:9999/issuer" }), nil, true},
		{"plain http issuer", mod(func(c *FederatedIdentityCredential) { c.Issuer = "http://ci.example.com" }), nil, false},
		{"relative issuer", mod(func(c *FederatedIdentityCredential) { c.Issuer = "ci" }), nil, false},
		{"no subject", mod(func(c *FederatedIdentityCredential) { c.Subject = "" }), nil, false},
		{"two audiences", mod(func(c *FederatedIdentityCredential) { c.Audiences = []string{"a", "b"} }), nil, false},
		{"short name", mod(func(c *FederatedIdentityCredential) { c.Name = "x" }), nil, false},
		{"duplicate name", ok, []FederatedIdentityCredential{mod(func(c *FederatedIdentityCredential) { c.Subject = "other" })}, false},
		{"duplicate issuer and subject", ok, []FederatedIdentityCredential{mod(func(c *FederatedIdentityCredential) { c.Name = "other" })}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckFederatedCredential(tc.fic, tc.others)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckFederatedCredential: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestManagedIdentityFederatedCredential exchanges an external token for
// a managed identity: a service principal without an application, whose
// federated credentials are kept beside it (the ARM child resources of a
// user-assigned identity).
func TestManagedIdentityFederatedCredential(t *testing.T) {
	f := newFixture(t, testAuthority)
	ci := newOIDCIssuer(t)
	ctx := context.Background()
	mi := ServicePrincipal{ID: f.svc.NewID(), AppID: f.svc.NewID(), TenantID: f.tenant.ID, DisplayName: "uami", AccountEnabled: true}
	if err := f.svc.Directory().PutServicePrincipal(ctx, mi); err != nil {
		t.Fatal(err)
	}
	form := func(tok string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {mi.AppID},
			"client_assertion_type": {jwtBearer}, "client_assertion": {tok}, "scope": {"https://management.azure.com/.default"}}
	}
	tok := ci.mint(t, ci.key, ci.srv.URL, "system:serviceaccount:prod:api", DefaultFederatedAudience, f.clock.Now().Add(time.Hour))
	if rec := f.post(form(tok)); rec.Code != 400 || !strings.Contains(rec.Body.String(), "AADSTS700016") {
		t.Fatalf("before any credential: %d %s", rec.Code, rec.Body)
	}
	if _, err := f.svc.PutManagedIdentityFederatedCredential(ctx, f.tenant.ID, mi.AppID, FederatedIdentityCredential{
		Name: "k8s", Issuer: ci.srv.URL, Subject: "system:serviceaccount:prod:api"}); err != nil {
		t.Fatal(err)
	}
	// rewriting the principal's record (as the ARM hooks do) keeps them
	if err := f.svc.Directory().PutServicePrincipal(ctx, mi); err != nil {
		t.Fatal(err)
	}
	rec := f.post(form(tok))
	if rec.Code != 200 {
		t.Fatalf("exchange: %d %s", rec.Code, rec.Body)
	}
	var resp TokenResponse
	_ = json.Unmarshal(rec.Body.Bytes(), &resp)
	if p, err := f.validator().Validate(ctx, resp.AccessToken); err != nil || p.ObjectID != mi.ID {
		t.Fatalf("token principal %+v, %v", p, err)
	}
	if rec := f.post(url.Values{"grant_type": {"client_credentials"}, "client_id": {mi.AppID}, "client_secret": {"guess"},
		"scope": {"https://management.azure.com/.default"}}); rec.Code == 200 {
		t.Fatal("a managed identity accepted a client secret")
	}
	if err := f.svc.DeleteManagedIdentityFederatedCredential(ctx, f.tenant.ID, mi.AppID, "k8s"); err != nil {
		t.Fatal(err)
	}
	if rec := f.post(form(tok)); rec.Code == 200 {
		t.Fatal("exchange after the credential was deleted")
	}
}
