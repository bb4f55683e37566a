package identity

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
)

const testAuthority = "https://login.steward.test/"

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *fakeClock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// fixture is a tenant with one application that has a client secret and a
// certificate credential.
type fixture struct {
	svc    *Service
	clock  *fakeClock
	tenant Tenant
	app    Application
	sp     ServicePrincipal
	secret string
	cert   *x509.Certificate
	key    *rsa.PrivateKey
}

var (
	sharedKeyOnce sync.Once
	sharedKey     *rsa.PrivateKey
)

// testKey is one RSA key reused by the tests' client certificates, since
// generating keys dominates test time.
func testKey(t testing.TB) *rsa.PrivateKey {
	sharedKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		sharedKey = k
	})
	return sharedKey
}

func selfSigned(t testing.TB, key *rsa.PrivateKey, cn string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newFixture(t testing.TB, authority string) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Second)}
	svc := NewService(NewMemRecords(), Options{AuthorityHost: authority, Now: clock.Now})
	tenant, err := svc.CreateTenant(ctx, "test", "contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	app, sp, err := svc.CreateApplication(ctx, tenant.ID, "app", "api://steward-test")
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := svc.AddClientSecret(ctx, tenant.ID, app.AppID, "s", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key := testKey(t)
	cert := selfSigned(t, key, "client", clock.Now().Add(-time.Hour), clock.Now().Add(48*time.Hour))
	if _, err := svc.AddCertificate(ctx, tenant.ID, app.AppID, "c", cert); err != nil {
		t.Fatal(err)
	}
	app, _ = svc.Directory().Application(ctx, tenant.ID, app.AppID)
	return &fixture{svc: svc, clock: clock, tenant: tenant, app: app, sp: sp, secret: secret, cert: cert, key: key}
}

func (f *fixture) tokenURL() string {
	return strings.TrimSuffix(f.svc.opts.AuthorityHost, "/") + "/" + f.tenant.ID + "/oauth2/v2.0/token"
}

// assertionOpts varies a client assertion from the valid one.
type assertionOpts struct {
	alg      jose.SignatureAlgorithm // default PS256
	thumb    string                  // "x5t", "x5t#S256" (default) or "none"
	stdB64   bool                    // encode the thumbprint as MSAL does
	key      crypto.Signer
	cert     *x509.Certificate
	iss, sub string
	aud      string
	nbf, exp time.Time
	jti      string
}

func (f *fixture) assertion(t testing.TB, o assertionOpts) string {
	t.Helper()
	now := f.clock.Now()
	if o.alg == "" {
		o.alg = jose.PS256
	}
	if o.thumb == "" {
		o.thumb = "x5t#S256"
	}
	if o.key == nil {
		o.key = f.key
	}
	if o.cert == nil {
		o.cert = f.cert
	}
	if o.iss == "" {
		o.iss = f.app.AppID
	}
	if o.sub == "" {
		o.sub = f.app.AppID
	}
	if o.aud == "" {
		o.aud = f.tokenURL()
	}
	if o.nbf.IsZero() {
		o.nbf = now
	}
	if o.exp.IsZero() {
		o.exp = now.Add(10 * time.Minute)
	}
	if o.jti == "" {
		o.jti = uuid.NewString()
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	enc := base64.RawURLEncoding.EncodeToString
	if o.stdB64 {
		enc = base64.StdEncoding.EncodeToString
	}
	switch o.thumb {
	case "x5t":
		s := sha1.Sum(o.cert.Raw) //nolint:gosec
		opts = opts.WithHeader("x5t", enc(s[:]))
	case "x5t#S256":
		s := sha256.Sum256(o.cert.Raw)
		opts = opts.WithHeader("x5t#S256", enc(s[:]))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: o.alg, Key: o.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"iss": o.iss, "sub": o.sub, "aud": o.aud, "nbf": o.nbf.Unix(), "exp": o.exp.Unix(), "jti": o.jti}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// post sends a token request form to the service's handler.
func (f *fixture) post(form url.Values) *httptest.ResponseRecorder {
	return f.postTo(f.tenant.ID, form)
}

func (f *fixture) postTo(tenant string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "https://login.steward.test/"+tenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.svc.Handler().ServeHTTP(rec, req)
	return rec
}

func (f *fixture) secretForm() url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {f.app.AppID},
		"client_secret": {f.secret}, "scope": {"https://management.azure.com/.default"}}
}

func (f *fixture) assertionForm(a string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {f.app.AppID},
		"client_assertion_type": {jwtBearer}, "client_assertion": {a},
		"scope": {"https://management.azure.com/.default"}}
}

func (f *fixture) validator() *Validator {
	return &Validator{
		Keys:      f.svc.Keys(),
		Issuer:    func(tid string) string { return IssuerFor(f.svc.opts.AuthorityHost, tid) },
		Audiences: []string{"https://management.azure.com", "api://steward-test"},
		Now:       f.clock.Now,
	}
}
