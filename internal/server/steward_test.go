package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/steward-gov/steward/internal/identity"
)

// startSteward opens a Steward on 127.0.0.1:0 in dir and serves it until
// the test ends; the returned stop function shuts it down and returns
// Run's error.
func startSteward(t testing.TB, dir string, services ...Service) (*Steward, func() error) {
	t.Helper()
	return startStewardWith(t, testConfig(dir), services...)
}

// startStewardWith is startSteward with a configuration of the caller's.
func startStewardWith(t testing.TB, cfg Config, services ...Service) (*Steward, func() error) {
	t.Helper()
	s, err := Open(context.Background(), cfg, nil, services...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			return errors.New("Run did not return after cancel")
		}
	}
	t.Cleanup(func() { _ = stop() })
	return s, stop
}

// testConfig is the configuration of a test Steward in dir: loopback, a
// free port, and a root key of its own beside (not in) the data
// directory, the same for every start on dir.
func testConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.DataDir = dir
	cfg.Listen = "127.0.0.1:0"
	cfg.RootKeyFile = dir + "-root.key"
	return cfg
}

// sdkOptions points the Azure SDK at s, trusting its CA. Azure's host
// names (a data collection endpoint's, say) go through s's proxy, and no
// dial leaves loopback.
func sdkOptions(s *Steward) azcore.ClientOptions {
	return sdkOptionsFor(s.BaseURL, s.ProxyURL, s.CA.Pool())
}

// sdkOptionsFor is sdkOptions for a Steward at baseURL with its proxy at
// proxyURL and its CA in roots, as another process sees it.
func sdkOptionsFor(baseURL, proxyURL string, roots *x509.CertPool) azcore.ClientOptions {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DialContext: (&loopbackGuard{}).DialContext}
	if pu, err := url.Parse(proxyURL); err == nil && proxyURL != "" {
		tr.Proxy = func(r *http.Request) (*url.URL, error) {
			if ip := net.ParseIP(r.URL.Hostname()); r.URL.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()) {
				return nil, nil
			}
			return pu, nil
		}
	}
	client := &http.Client{Transport: tr}
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: baseURL},
		Transport: client,
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
}

var armScope = []string{"https://management.azure.com/.default"}

func TestServeWithAzureSDKCredentials(t *testing.T) {
	dir := t.TempDir()
	s, stop := startSteward(t, dir)
	info, err := identity.ReadBootstrap(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, identity.BootstrapFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("bootstrap.json: %v %v", st, err)
	}
	opts := sdkOptions(s)

	secretCred, err := azidentity.NewClientSecretCredential(info.TenantID, info.ClientID, info.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(info.CertificatePath)
	if err != nil {
		t.Fatal(err)
	}
	certs, key, err := azidentity.ParseCertificates(pemBytes, nil)
	if err != nil {
		t.Fatal(err)
	}
	certCred, err := azidentity.NewClientCertificateCredential(info.TenantID, info.ClientID, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	inProcCred, err := azidentity.NewClientSecretCredential(info.TenantID, info.ClientID, info.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{DisableInstanceDiscovery: true, ClientOptions: azcore.ClientOptions{
			Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: s.BaseURL}, Transport: s.Transport()}})
	if err != nil {
		t.Fatal(err)
	}
	// A custom-cloud client may ask for Steward's own URL as the audience.
	tok, err := secretCred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{s.BaseURL + ".default"}})
	if err != nil {
		t.Fatalf("token for %s: %v", s.BaseURL, err)
	}
	if who := whoami(t, s, tok.Token); who["audience"] != strings.TrimSuffix(s.BaseURL, "/") {
		t.Errorf("whoami = %v", who)
	}
	var lastToken string
	for name, cred := range map[string]azcore.TokenCredential{"secret": secretCred, "certificate": certCred, "in-process": inProcCred} {
		tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: armScope})
		if err != nil {
			t.Fatalf("%s: GetToken: %v", name, err)
		}
		who := whoami(t, s, tok.Token)
		if who["appId"] != info.ClientID || who["objectId"] != info.ObjectID || who["tenantId"] != info.TenantID {
			t.Errorf("%s: whoami = %v", name, who)
		}
		lastToken = tok.Token
	}

	// A restart on the same data directory keeps the tenant, the
	// administrator and the signing key: the old token still validates.
	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
	s2, _ := startSteward(t, dir)
	if s2.Bootstrap.TenantID != info.TenantID || s2.Bootstrap.ClientSecret != info.ClientSecret {
		t.Errorf("restart re-bootstrapped: %+v", s2.Bootstrap)
	}
	set, err := s2.Identity.Keys().JWKS(context.Background(), info.TenantID, "")
	if err != nil || len(set.Keys) != 1 || set.Keys[0].Kid != tokenKID(t, lastToken) {
		t.Errorf("signing key not kept across restart: %+v %v", set, err)
	}
	if _, err := s2.Validator(ARMAudiences(s2.BaseURL)...).Validate(context.Background(), lastToken); err == nil {
		// The port changed, so the issuer (https://localhost:PORT/...) did too;
		// a token from the old address must not validate.
		t.Error("token from the previous listen address validated under the new issuer")
	}
}

func whoami(t *testing.T, s *Steward, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.BaseURL+"steward/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.Transport().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("whoami status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestServeRejectsBadTokenRequestsWithoutServerErrors(t *testing.T) {
	s, _ := startSteward(t, t.TempDir())
	opts := sdkOptions(s)
	info := s.Bootstrap
	cases := map[string]struct{ tenant, client, secret string }{
		"wrong secret":   {info.TenantID, info.ClientID, "wrong"},
		"unknown client": {info.TenantID, "00000000-0000-0000-0000-000000000009", info.ClientSecret},
		"unknown tenant": {"00000000-0000-0000-0000-000000000009", info.ClientID, info.ClientSecret},
	}
	for name, c := range cases {
		cred, err := azidentity.NewClientSecretCredential(c.tenant, c.client, c.secret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: armScope})
		var afe *azidentity.AuthenticationFailedError
		if !errors.As(err, &afe) {
			t.Errorf("%s: err = %v", name, err)
			continue
		}
		if afe.RawResponse != nil && afe.RawResponse.StatusCode >= 500 {
			t.Errorf("%s: status %d", name, afe.RawResponse.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, s.BaseURL+"steward/whoami", nil)
	resp, err := s.Transport().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("whoami without token: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodGet, s.BaseURL+"metrics", nil)
	resp, err = s.Transport().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`steward_token_requests_total{credential="secret",result="AADSTS7000215"} 1`,
		`steward_token_requests_total{credential="secret",result="AADSTS700016"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func tokenKID(t *testing.T, raw string) string {
	t.Helper()
	h, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct{ Kid string }
	if err := json.Unmarshal(b, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.Kid
}

// TestEnvironmentCredentialFromBootstrap follows what `eval $(steward env)`
// sets up: azidentity's EnvironmentCredential reads AZURE_TENANT_ID,
// AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH and
// AZURE_AUTHORITY_HOST.
func TestEnvironmentCredentialFromBootstrap(t *testing.T) {
	s, _ := startSteward(t, t.TempDir())
	info := s.Bootstrap
	for _, useCert := range []bool{false, true} {
		t.Setenv("AZURE_TENANT_ID", info.TenantID)
		t.Setenv("AZURE_CLIENT_ID", info.ClientID)
		t.Setenv("AZURE_AUTHORITY_HOST", info.AuthorityHost)
		if useCert {
			t.Setenv("AZURE_CLIENT_SECRET", "")
			os.Unsetenv("AZURE_CLIENT_SECRET")
			t.Setenv("AZURE_CLIENT_CERTIFICATE_PATH", info.CertificatePath)
		} else {
			t.Setenv("AZURE_CLIENT_SECRET", info.ClientSecret)
		}
		opts := sdkOptions(s)
		opts.Cloud = cloud.Configuration{} // AZURE_AUTHORITY_HOST must be enough
		cred, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{
			ClientOptions: opts, DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: armScope})
		if err != nil {
			t.Fatalf("certificate=%v: %v", useCert, err)
		}
		if who := whoami(t, s, tok.Token); who["appId"] != info.ClientID {
			t.Errorf("whoami = %v", who)
		}
	}
}

// adminARMToken signs in as s's bootstrap administrator (client secret,
// in process) and returns an access token for the management API.
func adminARMToken(t testing.TB, s *Steward) string {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(s.Bootstrap.TenantID, s.Bootstrap.ClientID, s.Bootstrap.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{DisableInstanceDiscovery: true, ClientOptions: azcore.ClientOptions{
			Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: s.BaseURL}, Transport: s.Transport()}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: armScope})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

func TestServicesMountAfterTheTokenService(t *testing.T) {
	mounted := func(ctx context.Context, s *Steward) error {
		s.Server.Router.HandlePrefix("arm", "/subscriptions/", s.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := identity.PrincipalFrom(r.Context())
			w.Write([]byte(p.ObjectID))
		})))
		return nil
	}
	s, _ := startSteward(t, t.TempDir(), mounted)
	req, _ := http.NewRequest(http.MethodGet, s.BaseURL+"subscriptions/x", nil)
	req.Header.Set("Authorization", "Bearer "+adminARMToken(t, s))
	resp, err := s.Transport().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != s.Bootstrap.ObjectID {
		t.Errorf("mounted service: %d %q", resp.StatusCode, body)
	}
	failing := func(context.Context, *Steward) error { return errors.New("mount failed") }
	cfg := DefaultConfig()
	cfg.DataDir, cfg.Listen = t.TempDir(), "127.0.0.1:0"
	if _, err := Open(context.Background(), cfg, nil, failing); err == nil {
		t.Error("Open ignored a failing service")
	}
}
