package authorization_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/authorization"
	"github.com/steward-gov/steward/internal/cloud/policyprovider"
	"github.com/steward-gov/steward/internal/server"
)

// env is a Steward with the authorization and policy providers mounted,
// reached in process by unmodified Azure SDK clients.
type env struct {
	s      *server.Steward
	cred   azcore.TokenCredential
	opts   *azarm.ClientOptions
	sub    string
	policy *policyprovider.Provider
}

func newEnv(t testing.TB, popts ...policyprovider.Options) *env {
	t.Helper()
	var po policyprovider.Options
	if len(popts) > 0 {
		po = popts[0]
	}
	e := &env{}
	setup := func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
		l := cloud.DefaultRateLimits()
		l.Disabled = true
		if err := c.SetRateLimits(l); err != nil {
			return err
		}
		if err := authorization.Register(c); err != nil {
			return err
		}
		p, err := policyprovider.Register(c, po)
		e.policy = p
		return err
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	s, err := server.Open(context.Background(), cfg, nil, server.CloudService(setup))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e.s, e.sub = s, s.Bootstrap.SubscriptionID
	e.cred, e.opts = e.credential(t, s.Bootstrap.ClientID, s.Bootstrap.ClientSecret)
	return e
}

// credential is an SDK credential and client options for an application.
func (e *env) credential(t testing.TB, clientID, secret string) (azcore.TokenCredential, *azarm.ClientOptions) {
	t.Helper()
	cred, err := e.s.SecretCredential(clientID, secret)
	if err != nil {
		t.Fatal(err)
	}
	return cred, &azarm.ClientOptions{ClientOptions: e.s.ARMClientOptions()}
}

// principal is an application without role assignments.
type principal struct {
	id   string
	cred azcore.TokenCredential
	opts *azarm.ClientOptions
}

func (e *env) newPrincipal(t testing.TB, name string) principal {
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
	cred, opts := e.credential(t, app.AppID, secret)
	return principal{id: sp.ID, cred: cred, opts: opts}
}

// do sends a raw request as the administrator.
func (e *env) do(t testing.TB, method, path string, body []byte) (*http.Response, []byte) {
	t.Helper()
	tok, err := e.cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(e.s.BaseURL, "/")+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.s.Transport().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// wantCode checks that err is an ARM error with the status and code.
func wantCode(t testing.TB, err error, status int, code string) *azcore.ResponseError {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want %d %s, got %v", status, code, err)
	}
	if re.StatusCode != status || re.ErrorCode != code {
		t.Fatalf("want %d %s, got %d %s: %v", status, code, re.StatusCode, re.ErrorCode, err)
	}
	return re
}
