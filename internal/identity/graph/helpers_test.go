package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/identity"
)

const testAuthority = "https://login.steward.test/"

// env is a directory with a home tenant whose administrator (a service
// principal) is Global Administrator, served by a Graph handler.
type env struct {
	t      testing.TB
	svc    *identity.Service
	srv    *httptest.Server
	tenant identity.Tenant
	admin  principal
	// signIns are the credential sign-ins the token endpoint reported,
	// by lowered scope: what the handler's CredentialActivity reads.
	mu      sync.Mutex
	signIns map[string]time.Time
}

// principal is a service principal that can sign in with a secret.
type principal struct {
	appID, objectID, secret, tenant string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, signIns: map[string]time.Time{}}
	collection := map[string]string{identity.CredentialPassword: "passwordCredentials", identity.CredentialCertificate: "keyCredentials"}
	svc := identity.NewService(identity.NewMemRecords(), identity.Options{AuthorityHost: testAuthority,
		CredentialUsed: func(u identity.CredentialUse) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.signIns[strings.ToLower("/applications/"+u.AppObjectID+"/"+collection[u.Kind]+"/"+u.KeyID)] = u.Time
		}})
	ctx := context.Background()
	ten, err := svc.CreateTenant(ctx, "Contoso", "contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	e.svc, e.tenant = svc, ten
	e.admin = e.newPrincipal(ten.ID, "admin", identity.RoleGlobalAdministrator)
	h := New(Options{Identity: svc, HomeTenant: ten.ID, PageSize: 3, Validator: &identity.Validator{
		Keys:      svc.Keys(),
		Issuer:    func(tid string) string { return identity.IssuerFor(testAuthority, tid) },
		Audiences: []string{DefaultResource},
	}, CredentialActivity: func(context.Context) (map[string]time.Time, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		return maps.Clone(e.signIns), nil
	}})
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle(TenantsPath, h.TenantsHandler())
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// newPrincipal registers an app with a service principal and a secret in
// tenant, holding the given directory roles.
func (e *env) newPrincipal(tenant, name string, roles ...string) principal {
	e.t.Helper()
	ctx := context.Background()
	app, sp, err := e.svc.CreateApplication(ctx, tenant, name)
	if err != nil {
		e.t.Fatal(err)
	}
	secret, _, err := e.svc.AddClientSecret(ctx, tenant, app.AppID, "test", time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range roles {
		if _, err := e.svc.Directory().AssignRole(ctx, identity.RoleAssignment{ID: e.svc.NewID(), TenantID: tenant,
			RoleDefinitionID: r, PrincipalID: sp.ID}); err != nil {
			e.t.Fatal(err)
		}
	}
	return principal{appID: app.AppID, objectID: sp.ID, secret: secret, tenant: tenant}
}

func (e *env) token(p principal) string {
	e.t.Helper()
	resp, err := e.svc.Token(context.Background(), identity.TokenRequest{Tenant: p.tenant, ClientID: p.appID,
		ClientSecret: p.secret, Scope: "https://graph.microsoft.com/.default"})
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.AccessToken
}

// do sends a Graph request as p and returns the status and decoded body.
func (e *env) do(p principal, method, path string, body any, hdr ...string) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+e.token(p))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(bytes.TrimSpace(b)) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &m); err != nil {
			e.t.Fatalf("%s %s: body %q: %v", method, path, b, err)
		}
	} else if len(b) > 0 {
		m = map[string]any{"text": string(b)}
	}
	return resp.StatusCode, m
}

// must sends a request that must answer want.
func (e *env) must(p principal, want int, method, path string, body any, hdr ...string) map[string]any {
	e.t.Helper()
	code, m := e.do(p, method, path, body, hdr...)
	if code != want {
		e.t.Fatalf("%s %s: status %d, want %d: %v", method, path, code, want, m)
	}
	return m
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func values(m map[string]any) []map[string]any {
	vs, _ := m["value"].([]any)
	out := make([]map[string]any, 0, len(vs))
	for _, v := range vs {
		o, _ := v.(map[string]any)
		out = append(out, o)
	}
	return out
}
