package solutions_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/authorization"
	"github.com/steward-gov/steward/internal/cloud/policyprovider"
	"github.com/steward-gov/steward/internal/cloud/solutions"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/server"
)

// builtinPolicy is the built-in definition the test definitions assign.
const builtinPolicy = "0a914e76-4921-4c19-b460-a2d36003525a"

// env is a Steward with Microsoft.Authorization, the policy provider and
// Microsoft.Solutions, reached in process by unmodified SDK clients.
type env struct {
	s   *server.Steward
	sol *solutions.Provider
	// admin is the home tenant's administrator.
	admin actor
	// close stops the Steward (also at the end of the test).
	close func()
}

// actor is a principal with an SDK credential.
type actor struct {
	id, tenant string
	cred       azcore.TokenCredential
	opts       *azarm.ClientOptions
}

func newEnv(t testing.TB, opts solutions.Options) *env {
	t.Helper()
	return openEnv(t, t.TempDir(), opts, true)
}

// openEnv opens a Steward on dir (a new one, or one opened before);
// deliver starts the notification outbox.
func openEnv(t testing.TB, dir string, opts solutions.Options, deliver bool) *env {
	t.Helper()
	defs := filepath.Join(dir, "policyDefinitions")
	if err := os.MkdirAll(defs, 0o755); err != nil {
		t.Fatal(err)
	}
	rule := `{"name":"` + builtinPolicy + `","properties":{"displayName":"Audit resources without an env tag","policyType":"BuiltIn","mode":"Indexed",
		"parameters":{"tagName":{"type":"String"}},
		"policyRule":{"if":{"field":"[concat('tags[', parameters('tagName'), ']')]","exists":"false"},"then":{"effect":"audit"}}}}`
	if err := os.WriteFile(filepath.Join(defs, "audit.json"), []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	e := &env{}
	ctx, cancel := context.WithCancel(context.Background())
	setup := func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
		l := cloud.DefaultRateLimits()
		l.Disabled = true
		if err := c.SetRateLimits(l); err != nil {
			return err
		}
		if err := authorization.Register(c); err != nil {
			return err
		}
		if _, err := policyprovider.Register(c, policyprovider.Options{BuiltInDir: dir}); err != nil {
			return err
		}
		p, err := solutions.Register(c, opts)
		if err != nil {
			return err
		}
		if deliver {
			p.Start(ctx)
		}
		e.sol = p
		return nil
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Listen = "127.0.0.1:0"
	s, err := server.Open(context.Background(), cfg, nil, server.CloudService(setup))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	e.close = func() { once.Do(func() { cancel(); s.Close() }) }
	t.Cleanup(e.close)
	e.s = s
	e.admin = e.credential(t, s.Bootstrap.TenantID, s.Bootstrap.ClientID, s.Bootstrap.ClientSecret)
	return e
}

func (e *env) credential(t testing.TB, tenant, clientID, secret string) actor {
	t.Helper()
	o := e.s.ARMClientOptions()
	cred, err := azidentity.NewClientSecretCredential(tenant, clientID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: o, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return actor{tenant: tenant, cred: cred, opts: &azarm.ClientOptions{ClientOptions: o}}
}

// servicePrincipal creates an application in tenant and returns it as an
// actor without any role.
func (e *env) servicePrincipal(t testing.TB, tenant, name string) actor {
	t.Helper()
	ctx := context.Background()
	app, sp, err := e.s.Identity.CreateApplication(ctx, tenant, name)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := e.s.Identity.AddClientSecret(ctx, tenant, app.AppID, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	a := e.credential(t, tenant, app.AppID, secret)
	a.id = sp.ID
	return a
}

// tenant creates a directory tenant.
func (e *env) tenant(t testing.TB, name string) string {
	t.Helper()
	tn, err := e.s.Identity.CreateTenant(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

// subscription creates a subscription owned by owner.
func (e *env) subscription(t testing.TB, id, name string, owner actor) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := e.s.Cloud.CreateSubscription(ctx, nil, cloud.Subscription{ID: id, DisplayName: name}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Cloud.EnsureOwner(ctx, "/subscriptions/"+id, owner.id, "ServicePrincipal"); err != nil {
		t.Fatal(err)
	}
}

// grant gives principal a role at scope.
func (e *env) grant(t testing.TB, scope, role, principal string) {
	t.Helper()
	doc := rbac.RoleAssignmentDocument(scope, role, principal, "ServicePrincipal")
	id, _ := doc["id"].(string)
	if _, _, err := e.s.Cloud.Put(context.Background(), nil, cloud.PutRequest{ID: id, Type: cloud.TypeRoleAssignment, Doc: doc}); err != nil {
		t.Fatal(err)
	}
}

func (a actor) resources(t testing.TB, sub string) *armresources.Client {
	t.Helper()
	c, err := armresources.NewClient(sub, a.cred, a.opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (a actor) groups(t testing.TB, sub string) *armresources.ResourceGroupsClient {
	t.Helper()
	c, err := armresources.NewResourceGroupsClient(sub, a.cred, a.opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantStatus checks that err is an ARM error with the status (and code,
// when given).
func wantStatus(t *testing.T, err error, status int, code string) {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want %d %s, got %v", status, code, err)
	}
	if re.StatusCode != status || (code != "" && re.ErrorCode != code) {
		t.Fatalf("want %d %s, got %d %s: %v", status, code, re.StatusCode, re.ErrorCode, err)
	}
}

// endpoint is a notification endpoint on loopback that fails its first
// failFirst requests with 500 and records the others.
type endpoint struct {
	srv       *httptest.Server
	mu        sync.Mutex
	failFirst int
	calls     int
	paths     []string
	events    []map[string]any
}

func newEndpoint(t testing.TB, failFirst int) *endpoint {
	ep := &endpoint{failFirst: failFirst}
	ep.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ep.mu.Lock()
		defer ep.mu.Unlock()
		ep.calls++
		if ep.calls <= ep.failFirst {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		ep.paths = append(ep.paths, r.URL.RequestURI())
		ep.events = append(ep.events, m)
	}))
	t.Cleanup(ep.srv.Close)
	return ep
}

// waitFor polls the recorded events until have returns true, failing
// after a generous bound (the outbox polls every few milliseconds here).
func (ep *endpoint) waitFor(t *testing.T, what string, have func([]map[string]any) bool) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ep.mu.Lock()
		evs := append([]map[string]any(nil), ep.events...)
		ep.mu.Unlock()
		if have(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("the endpoint never received %s; got %v", what, evs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hasEvent reports whether evs holds eventType/provisioningState.
func hasEvent(evs []map[string]any, eventType, state string) bool {
	for _, e := range evs {
		if e["eventType"] == eventType && e["provisioningState"] == state {
			return true
		}
	}
	return false
}

// tokenOpts asks for a Resource Manager token.
var tokenOpts = policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}}

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// runtimePoll polls long-running operations without waiting.
var runtimePoll = runtime.PollUntilDoneOptions{Frequency: time.Millisecond}

func lower(s string) string { return strings.ToLower(s) }
