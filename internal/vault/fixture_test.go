package vault

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/seal"
	"github.com/steward-gov/steward/internal/store"
)

// Key Vault data roles used by the tests.
const (
	roleKVAdministrator = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
	roleSecretsUser     = "4633458b-17de-408a-b874-0445c86b69e6"
	roleCryptoUser      = "12338af0-0e69-4776-bea7-57ae8d297424"
	roleCertificateUser = "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba"
)

// tenantApp is an application with a client secret in a tenant.
type tenantApp struct {
	tenant identity.Tenant
	app    identity.Application
	sp     identity.ServicePrincipal
	secret string
}

// kvFixture is a vault served over TLS with host routing
// ({name}.vault.azure.net, dialled to the test server), Steward's token
// service on the same server, and an RBAC engine.
type kvFixture struct {
	t         testing.TB
	dataDir   string
	st        store.Store
	sealer    *seal.Sealer
	svc       *Service
	ids       *identity.Service
	engine    *rbac.Engine
	srv       *httptest.Server
	kv        *Handler
	authority string
	opts      azcore.ClientOptions
	home      tenantApp
	vault     Vault
	vaultURL  string
}

func newKVFixture(t testing.TB) *kvFixture {
	t.Helper()
	ctx := context.Background()
	f := &kvFixture{t: t, dataDir: t.TempDir()}
	var err error
	f.st, err = store.Open(ctx, "sqlite:"+filepath.Join(f.dataDir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close() })
	root, err := seal.KeySource{File: filepath.Join(t.TempDir(), "root.key")}.Load(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f.sealer, err = seal.OpenSealer(ctx, f.st, root, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.sealer.Close)
	f.svc = NewService(f.st, f.sealer, Options{})
	cat, err := rbac.BuiltInCatalog()
	if err != nil {
		t.Fatal(err)
	}
	f.engine = rbac.NewEngine(cat)

	caCert, tlsCert := testTLS(t)
	f.srv = httptest.NewUnstartedServer(nil)
	f.srv.TLS = &tls.Config{Certificates: []tls.Certificate{tlsCert}}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	_, port, _ := net.SplitHostPort(f.srv.Listener.Addr().String())
	f.authority = "https://localhost:" + port + "/"
	f.ids = identity.NewService(identity.NewMemRecords(), identity.Options{AuthorityHost: f.authority})
	validator := &identity.Validator{Keys: f.ids.Keys(), Audiences: []string{DefaultResource},
		Issuer: func(tid string) string { return identity.IssuerFor(f.authority, tid) }}
	f.kv = f.svc.Handler(HandlerOptions{Validator: validator, Authorizer: RBACAuthorizer(func() *rbac.Engine { return f.engine }), AuthorityHost: f.authority})
	idh := f.ids.Handler()
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.kv.Matches(r) {
			f.kv.ServeHTTP(w, r)
			return
		}
		idh.ServeHTTP(w, r)
	})

	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	addr := f.srv.Listener.Addr().String()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		// Every host (the vault's DNS name, the authority) reaches the test
		// server, as an /etc/hosts entry would.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
	}}
	f.opts = azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: f.authority},
		Transport: client,
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
	f.home = f.newTenantApp("home")
	f.vault = f.newVault("testvault", f.home.tenant.ID)
	f.vaultURL = "https://testvault.vault.azure.net"
	f.grant(f.vault, f.home.sp.ID, roleKVAdministrator)
	return f
}

// newTenantApp creates a tenant with an application and a client secret.
func (f *kvFixture) newTenantApp(name string) tenantApp {
	f.t.Helper()
	ctx := context.Background()
	ten, err := f.ids.CreateTenant(ctx, name)
	if err != nil {
		f.t.Fatal(err)
	}
	app, sp, err := f.ids.CreateApplication(ctx, ten.ID, name+"-app")
	if err != nil {
		f.t.Fatal(err)
	}
	secret, _, err := f.ids.AddClientSecret(ctx, ten.ID, app.AppID, "test", time.Hour)
	if err != nil {
		f.t.Fatal(err)
	}
	return tenantApp{tenant: ten, app: app, sp: sp, secret: secret}
}

func (f *kvFixture) newVault(name, tenantID string) Vault {
	f.t.Helper()
	v, err := f.svc.PutVault(context.Background(), Vault{Name: name, TenantID: tenantID,
		ResourceID: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/" + name})
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

// grant assigns a role to a principal on a vault.
func (f *kvFixture) grant(v Vault, principalID, roleID string) {
	f.t.Helper()
	name := strings.ToLower(principalID[:8] + roleID[8:])
	err := f.engine.AddRoleAssignment(rbac.RoleAssignment{ID: v.ResourceID + "/providers/Microsoft.Authorization/roleAssignments/" + name,
		Name: name, Scope: v.ResourceID, RoleDefinitionID: roleID, PrincipalID: principalID, PrincipalType: "ServicePrincipal"})
	if err != nil {
		f.t.Fatal(err)
	}
}

// cred returns a client-secret credential for an app.
func (f *kvFixture) cred(a tenantApp) azcore.TokenCredential {
	f.t.Helper()
	c, err := azidentity.NewClientSecretCredential(a.tenant.ID, a.app.AppID, a.secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: f.opts, DisableInstanceDiscovery: true})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// testCA makes a certificate authority for signing CSRs.
func testCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "issuing CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

// testTLS makes a CA and a server certificate for the vault DNS names,
// localhost and 127.0.0.1.
func testTLS(t testing.TB) (*x509.Certificate, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost", "*.vault.azure.net"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	return ca, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
