package insights_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/cloud/policyprovider"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/server"
)

// env is a Steward with the policy provider and the compliance engine,
// reached in process by the Azure SDK with the administrator's credentials.
type env struct {
	s      *server.Steward
	engine *insights.Engine
	cred   azcore.TokenCredential
	opts   *azarm.ClientOptions
	sub    string
	token  string
}

func newEnv(t testing.TB, opts insights.Options) *env {
	t.Helper()
	e, closeEnv := openEnv(t, t.TempDir(), opts)
	t.Cleanup(closeEnv)
	return e
}

// openEnv is newEnv with its data in dir; the caller closes it.
func openEnv(t testing.TB, dir string, opts insights.Options) (*env, func()) {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.DataDir = dir
	cfg.Listen = "127.0.0.1:0"
	var eng *insights.Engine
	setup := func(ctx context.Context, _ *server.Steward, c *cloud.Cloud) error {
		l := cloud.DefaultRateLimits()
		l.Disabled = true
		if err := c.SetRateLimits(l); err != nil {
			return err
		}
		p, err := policyprovider.Register(c, policyprovider.Options{})
		if err != nil {
			return err
		}
		o := opts
		o.Assignments = p.Assignments
		if o.Poll == 0 {
			o.Poll = 50 * time.Millisecond
		}
		if o.RetryAfter == 0 {
			o.RetryAfter = 1
		}
		eng = insights.New(c, o)
		if err := eng.Mount(); err != nil {
			return err
		}
		eng.Start(ctx)
		return nil
	}
	s, err := server.Open(context.Background(), cfg, nil, server.CloudService(setup))
	if err != nil {
		t.Fatal(err)
	}
	closeEnv := func() {
		eng.Stop()
		s.Close()
	}
	info := s.Bootstrap
	cred, err := s.SecretCredential(info.ClientID, info.ClientSecret)
	if err != nil {
		closeEnv()
		t.Fatal(err)
	}
	tok, err := s.Identity.Token(context.Background(), identity.TokenRequest{Tenant: info.TenantID,
		ClientID: info.ClientID, ClientSecret: info.ClientSecret, Scope: "https://management.azure.com/.default",
		Authorities: []string{s.BaseURL}})
	if err != nil {
		closeEnv()
		t.Fatal(err)
	}
	return &env{s: s, engine: eng, cred: cred, opts: &azarm.ClientOptions{ClientOptions: s.ARMClientOptions()}, sub: info.SubscriptionID,
		token: tok.AccessToken}, closeEnv
}

// do sends a raw request as the administrator and returns the status and
// body.
func (e *env) do(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(e.s.BaseURL, "/")+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.s.Transport().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// put writes a document and fails the test unless it is stored.
func (e *env) put(t testing.TB, id, apiVersion string, body any) {
	t.Helper()
	code, b := e.do(t, http.MethodPut, id+"?api-version="+apiVersion, body)
	if code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("PUT %s: %d %s", id, code, b)
	}
}

func (e *env) rg(name string) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s", e.sub, name)
}

// httpsDefinition audits storage accounts that allow plain HTTP.
func (e *env) httpsDefinition(t testing.TB, name string) string {
	t.Helper()
	id := "/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/policyDefinitions/" + name
	e.put(t, id, "2023-04-01", map[string]any{"properties": map[string]any{
		"mode": "All", "displayName": "Secure transfer",
		"parameters": map[string]any{"effect": map[string]any{"type": "String", "defaultValue": "Audit"}},
		"policyRule": map[string]any{
			"if": map[string]any{"allOf": []any{
				map[string]any{"field": "type", "equals": "Microsoft.Web/sites"},
				map[string]any{"field": "Microsoft.Web/sites/httpsOnly", "notEquals": true},
			}},
			"then": map[string]any{"effect": "[parameters('effect')]"},
		}}})
	return id
}

// assign assigns a definition at scope.
func (e *env) assign(t testing.TB, scope, name, definitionID string, props map[string]any) string {
	t.Helper()
	id := scope + "/providers/Microsoft.Authorization/policyAssignments/" + name
	p := map[string]any{"policyDefinitionId": definitionID}
	for k, v := range props {
		p[k] = v
	}
	e.put(t, id, "2023-04-01", map[string]any{"properties": p})
	return id
}

// storage writes a storage account with the given secure-transfer setting.
func (e *env) storage(t testing.TB, group, name string, https bool) string {
	t.Helper()
	id := e.rg(group) + "/providers/Microsoft.Web/sites/" + name
	e.put(t, id, "2023-01-01", map[string]any{"location": "westeurope", "kind": "StorageV2",
		"properties": map[string]any{"httpsOnly": https}})
	return id
}

// waitIdle waits until the background worker has no queued scan.
func (e *env) waitIdle(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	for range 2000 {
		if !e.engine.Pending(ctx) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("compliance scans did not finish")
}
