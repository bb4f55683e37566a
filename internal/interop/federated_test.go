package interop

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ciIssuer is a workload's token issuer on loopback (as a CI system or a
// Kubernetes cluster publishes one): an OIDC discovery document and the
// key set of the one RSA key it signs with.
type ciIssuer struct {
	url string
	key *rsa.PrivateKey
}

func newCIIssuer(t *testing.T) *ciIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	c := &ciIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": c.url, "jwks_uri": c.url + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c.url = srv.URL
	return c
}

// token is a workload token of the issuer for subject, valid for an hour.
func (c *ciIssuer) token(t *testing.T, subject string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: c.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	raw, err := jwt.Signed(signer).Claims(map[string]any{"iss": c.url, "sub": subject, "aud": "api://AzureADTokenExchange",
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// rawARM sends ARM requests through an azcore ARM pipeline (bearer token
// of the administrator, Steward's endpoint), as an SDK without a typed
// client for the resource would.
type rawARM struct {
	pl  runtime.Pipeline
	url string
}

func newRawARM(t *testing.T, s *served) *rawARM {
	t.Helper()
	cred, err := s.SecretCredential(s.Info.ClientID, s.Info.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	c, err := azarm.NewClient("steward-interop", "v0.0.0", cred, &azarm.ClientOptions{ClientOptions: s.ARMClientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	return &rawARM{pl: c.Pipeline(), url: strings.TrimSuffix(s.BaseURL, "/")}
}

// do sends method path?api-version=version with body and returns the
// status and the decoded answer.
func (a *rawARM) do(t *testing.T, method, path, version string, body any) (int, map[string]any) {
	t.Helper()
	req, err := runtime.NewRequest(context.Background(), method, a.url+path+"?api-version="+version)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		if err := runtime.MarshalAsJSON(req, body); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := a.pl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// errCode is the ARM error code of an answer.
func errCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// claimOf reads a claim of a JWT without verifying it (the token came
// from Steward; the test only looks at whom it names).
func claimOf(t *testing.T, tok, claim string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	v, _ := m[claim].(string)
	return v
}

// TestFederatedIdentityCredentialsOfAManagedIdentity manages a
// user-assigned identity's federated identity credentials through ARM
// (PUT, GET, LIST, DELETE, Azure's shape and limits), then has a workload
// holding a token of the trusted issuer sign in as the identity with
// azidentity's ClientAssertionCredential (client_assertion at
// /{tenant}/oauth2/v2.0/token, client_id = the identity's clientId).
func TestFederatedIdentityCredentialsOfAManagedIdentity(t *testing.T) {
	t.Parallel()
	survey(t, "Go SDK", "managed identity: federatedIdentityCredentials PUT, GET, LIST, DELETE (azcore pipeline)",
		"managed identity: ClientAssertionCredential with a workload token")
	s := serveFull(t, unthrottled)
	ci := newCIIssuer(t)
	a := newRawARM(t, s)
	const v = "2023-01-31"
	rg := "/subscriptions/" + s.Info.SubscriptionID + "/resourceGroups/fic"
	if st, out := a.do(t, "PUT", rg, "2021-04-01", map[string]any{"location": "westeurope"}); st >= 300 {
		t.Fatalf("resource group: %d %v", st, out)
	}
	mi := rg + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/workload"
	st, out := a.do(t, "PUT", mi, v, map[string]any{"location": "westeurope"})
	if st >= 300 {
		t.Fatalf("identity: %d %v", st, out)
	}
	clientID, _ := propsOf(out)["clientId"].(string)
	principalID, _ := propsOf(out)["principalId"].(string)
	const subject = "system:serviceaccount:prod:api"
	fics := mi + "/federatedIdentityCredentials"
	st, out = a.do(t, "PUT", fics+"/prod-api", v, map[string]any{"properties": map[string]any{
		"issuer": ci.url, "subject": subject, "audiences": []string{"api://AzureADTokenExchange"}}})
	if st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("PUT credential: %d %v", st, out)
	}
	want := map[string]any{"id": fics + "/prod-api", "name": "prod-api", "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"}
	for k, w := range want {
		if !strings.EqualFold(fmt.Sprint(out[k]), fmt.Sprint(w)) {
			t.Errorf("%s = %v, want %v", k, out[k], w)
		}
	}
	p := propsOf(out)
	if p["issuer"] != ci.url || p["subject"] != subject || fmt.Sprint(p["audiences"]) != "[api://AzureADTokenExchange]" {
		t.Errorf("properties %v", p)
	}
	if st, out = a.do(t, "GET", fics+"/prod-api", v, nil); st != 200 || propsOf(out)["subject"] != subject {
		t.Errorf("GET: %d %v", st, out)
	}
	st, out = a.do(t, "GET", fics, v, nil)
	if list, _ := out["value"].([]any); st != 200 || len(list) != 1 {
		t.Errorf("LIST: %d %v", st, out)
	}

	// The workload signs in as the identity with its CI token.
	exchange := func() (azcore.AccessToken, error) {
		cred, err := azidentity.NewClientAssertionCredential(s.Info.TenantID, clientID,
			func(context.Context) (string, error) { return ci.token(t, subject), nil },
			&azidentity.ClientAssertionCredentialOptions{ClientOptions: s.ARMClientOptions(), DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		return cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	}
	tok, err := exchange()
	if err != nil {
		t.Fatalf("token exchange: %v", err)
	}
	if oid := claimOf(t, tok.Token, "oid"); !strings.EqualFold(oid, principalID) {
		t.Errorf("token oid %s, want the identity's principalId %s", oid, principalID)
	}

	// Azure's checks and limits.
	bad := []struct {
		name   string
		path   string
		body   map[string]any
		status int
		code   string
	}{
		{"no subject", fics + "/nosub", map[string]any{"issuer": ci.url, "audiences": []string{"api://AzureADTokenExchange"}}, 400, "BadRequest"},
		{"no audiences", fics + "/noaud", map[string]any{"issuer": ci.url, "subject": "x"}, 400, "BadRequest"},
		{"same issuer and subject", fics + "/again", map[string]any{"issuer": ci.url, "subject": subject, "audiences": []string{"api://AzureADTokenExchange"}}, 400, "BadRequest"},
		{"issuer not https", fics + "/plain", map[string]any{"issuer": "http://ci.example.com", "subject": "x", "audiences": []string{"api://AzureADTokenExchange"}}, 400, "BadRequest"},
		{"bad name", fics + "/-x", map[string]any{"issuer": ci.url, "subject": "y", "audiences": []string{"api://AzureADTokenExchange"}}, 400, "BadRequest"},
		{"no such identity", rg + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/none/federatedIdentityCredentials/c1",
			map[string]any{"issuer": ci.url, "subject": "z", "audiences": []string{"api://AzureADTokenExchange"}}, 404, "ParentResourceNotFound"},
	}
	for _, b := range bad {
		if st, out := a.do(t, "PUT", b.path, v, map[string]any{"properties": b.body}); st != b.status || errCode(out) != b.code {
			t.Errorf("%s: %d %v, want %d %s", b.name, st, out, b.status, b.code)
		}
	}
	if st, out := a.do(t, "GET", fics, "2018-11-30", nil); st != 400 || errCode(out) != "NoRegisteredProviderFound" {
		t.Errorf("api-version 2018-11-30 (before federated credentials): %d %v", st, out)
	}
	for i := 2; i <= 20; i++ {
		if st, out := a.do(t, "PUT", fmt.Sprintf("%s/c%02d", fics, i), v, map[string]any{"properties": map[string]any{
			"issuer": ci.url, "subject": fmt.Sprintf("s%d", i), "audiences": []string{"api://AzureADTokenExchange"}}}); st >= 300 {
			t.Fatalf("credential %d: %d %v", i, st, out)
		}
	}
	if st, out := a.do(t, "PUT", fics+"/c21", v, map[string]any{"properties": map[string]any{
		"issuer": ci.url, "subject": "s21", "audiences": []string{"api://AzureADTokenExchange"}}}); st != 400 || !strings.Contains(fmt.Sprint(out), "20") {
		t.Errorf("21st credential: %d %v, want 400 naming the limit of 20", st, out)
	}
	if st, _ := a.do(t, "PUT", fics+"/c20", v, map[string]any{"properties": map[string]any{
		"issuer": ci.url, "subject": "s20-new", "audiences": []string{"api://AzureADTokenExchange"}}}); st != 200 {
		t.Errorf("replacing the 20th credential: %d, want 200", st)
	}

	// Deleting the credential ends the exchange.
	if st, out := a.do(t, "DELETE", fics+"/prod-api", v, nil); st != 200 {
		t.Fatalf("DELETE: %d %v", st, out)
	}
	if st, _ := a.do(t, "GET", fics+"/prod-api", v, nil); st != 404 {
		t.Errorf("GET after DELETE: %d", st)
	}
	if _, err := exchange(); err == nil {
		t.Error("the exchange still works after the credential was deleted")
	}
}
