package cloud_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/server"
)

// env is a Steward opened in a temporary directory, reached in process by
// the Azure SDK with the administrator's credentials.
type env struct {
	s    *server.Steward
	cred azcore.TokenCredential
	opts *azarm.ClientOptions
	sub  string
}

func newEnv(t testing.TB, setup ...server.CloudSetup) *env {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	return newEnvConfig(t, cfg, setup...)
}

// newEnvConfig is newEnv with a configuration of the caller's.
func newEnvConfig(t testing.TB, cfg server.Config, setup ...server.CloudSetup) *env {
	t.Helper()
	s, err := server.Open(context.Background(), cfg, nil, server.CloudService(setup...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	info := s.Bootstrap
	cred, err := s.SecretCredential(info.ClientID, info.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	return &env{s: s, cred: cred, opts: &azarm.ClientOptions{ClientOptions: s.ARMClientOptions()}, sub: info.SubscriptionID}
}

// adminToken is an ARM access token of the bootstrap administrator.
func (e *env) adminToken(t testing.TB) string {
	t.Helper()
	b := e.s.Bootstrap
	return e.token(t, b.ClientID, b.ClientSecret)
}

func (e *env) token(t testing.TB, clientID, secret string) string {
	t.Helper()
	resp, err := e.s.Identity.Token(context.Background(), identity.TokenRequest{Tenant: e.s.Bootstrap.TenantID,
		ClientID: clientID, ClientSecret: secret, Scope: "https://management.azure.com/.default",
		Authorities: []string{e.s.BaseURL}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.AccessToken
}

// newPrincipal registers an application with no role assignments and
// returns its service principal's object ID and a token for it.
func (e *env) newPrincipal(t testing.TB, name string) (objectID, token string) {
	t.Helper()
	ctx := context.Background()
	app, sp, err := e.s.Identity.CreateApplication(ctx, e.s.Bootstrap.TenantID, name)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := e.s.Identity.AddClientSecret(ctx, e.s.Bootstrap.TenantID, app.AppID, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return sp.ID, e.token(t, app.AppID, secret)
}

// do sends a raw request through the in-process transport.
func (e *env) do(t testing.TB, method, path, token string, body []byte, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(e.s.BaseURL, "/")+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.s.Transport().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// unthrottled turns rate limiting off, for tests that send many requests.
func unthrottled(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
	l := cloud.DefaultRateLimits()
	l.Disabled = true
	return c.SetRateLimits(l)
}

// principalOf returns the administrator's principal as the API sees it.
func principalOf(t testing.TB, e *env) (identity.Principal, bool) {
	t.Helper()
	v := e.s.Validator(server.ARMAudiences(e.s.BaseURL)...)
	p, err := v.Validate(context.Background(), e.adminToken(t))
	return p, err == nil
}

// cloudDelete is a delete request of id without preconditions.
func cloudDelete(id string) cloud.DeleteRequest { return cloud.DeleteRequest{ID: id} }
