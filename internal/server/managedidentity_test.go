package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// armDo sends an ARM request as the administrator, in process.
func armDo(t *testing.T, s *Steward, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return roundTripJSON(t, s.Transport(), method, s.BaseURL+strings.TrimPrefix(path, "/"), token, body)
}

// roundTripJSON sends body (a string as is, anything else as JSON) with a
// bearer token, when given, and decodes the JSON answer.
func roundTripJSON(t testing.TB, rt http.RoundTripper, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = strings.NewReader(string(raw))
	}
	req, _ := http.NewRequest(method, url, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestManagedIdentitiesGetTokensFromBothEndpoints: a user-assigned
// identity gets principalId, clientId and tenantId; a role assignment to
// its principal works; the App Service endpoint and IMDS (through the
// proxy) issue its tokens to the environment `steward env
// --managed-identity` prints, select identities as Azure does, and refuse
// what is not bound; the Go SDK's ManagedIdentityCredential signs in with
// default options.
func TestManagedIdentitiesGetTokensFromBothEndpoints(t *testing.T) {
	dir := t.TempDir()
	s, _ := startSteward(t, dir, CloudService())
	admin := adminARMToken(t, s)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	if st, _ := armDo(t, s, admin, "PUT", sub+"/resourceGroups/mi?api-version=2021-04-01", map[string]any{"location": "westeurope"}); st >= 300 {
		t.Fatalf("group: %d", st)
	}
	uaiID := sub + "/resourceGroups/mi/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id"
	st, uai := armDo(t, s, admin, "PUT", uaiID+"?api-version=2023-01-31", map[string]any{"location": "westeurope",
		"properties": map[string]any{"principalId": "forged"}})
	props, _ := uai["properties"].(map[string]any)
	principalID, _ := props["principalId"].(string)
	clientID, _ := props["clientId"].(string)
	if st != http.StatusOK && st != http.StatusCreated || len(principalID) != 36 || len(clientID) != 36 || props["tenantId"] != s.Bootstrap.TenantID {
		t.Fatalf("identity: %d %v", st, uai)
	}
	_, again := armDo(t, s, admin, "PUT", uaiID+"?api-version=2023-01-31", map[string]any{"location": "westeurope", "tags": map[string]any{"a": "b"}})
	if p, _ := again["properties"].(map[string]any); p["principalId"] != principalID || p["clientId"] != clientID {
		t.Fatalf("update changed the identity: %v", again)
	}
	// The identity hooks on every type implement no type: types Steward
	// does not implement stay refused.
	if st, body := armDo(t, s, admin, "PUT", sub+"/providers/Microsoft.ManagedServices/registrationDefinitions/0e2a9c3d-5b1f-4e7a-9c8d-1f2e3d4c5b6a?api-version=2022-10-01",
		map[string]any{"location": "global", "identity": map[string]any{"type": "SystemAssigned"}}); st != http.StatusBadRequest {
		t.Fatalf("an unimplemented type was stored: %d %v", st, body)
	}
	// A resource with a system-assigned identity and the user-assigned one.
	siteID := sub + "/resourceGroups/mi/providers/Microsoft.Web/sites/app"
	_, site := armDo(t, s, admin, "PUT", siteID+"?api-version=2022-03-01", map[string]any{"location": "westeurope",
		"identity": map[string]any{"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": map[string]any{uaiID: map[string]any{}}}})
	block, _ := site["identity"].(map[string]any)
	sitePrincipal, _ := block["principalId"].(string)
	if len(sitePrincipal) != 36 {
		t.Fatalf("site identity: %v", site)
	}
	if st, body := armDo(t, s, admin, "PUT", sub+"/resourceGroups/mi/providers/Microsoft.Web/sites/bad?api-version=2022-03-01", map[string]any{"location": "westeurope",
		"identity": map[string]any{"type": "UserAssigned", "userAssignedIdentities": map[string]any{uaiID + "-missing": map[string]any{}}}}); st != http.StatusBadRequest {
		t.Fatalf("missing user-assigned identity: %d %v", st, body)
	}
	// Reader on the subscription for the user-assigned identity.
	if st, body := armDo(t, s, admin, "PUT", sub+"/providers/Microsoft.Authorization/roleAssignments/6f1c4e8a-2b3d-4c5e-9f70-8a1b2c3d4e5f?api-version=2022-04-01",
		map[string]any{"properties": map[string]any{"roleDefinitionId": sub + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
			"principalId": principalID, "principalType": "ServicePrincipal"}}); st >= 300 {
		t.Fatalf("role assignment: %d %v", st, body)
	}

	key, err := EnsureBindingKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := &loopbackGuard{}
	defer g.check(t)
	opts := proxyClientOptions(t, s, g)
	client := opts.Transport.(*http.Client)
	appService := func(binding, query string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", s.BaseURL+"msi/token?api-version=2019-08-01&resource=https://management.azure.com/"+query, nil)
		if binding != "" {
			req.Header.Set("X-IDENTITY-HEADER", binding)
		}
		return decode(t, client, req)
	}
	imdsVia := func(binding string, metadata bool, query string) (int, map[string]any) {
		pu, _ := url.Parse(s.ProxyURL)
		if binding != "" {
			pu.User = url.UserPassword("msi", binding)
		}
		c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), DialContext: g.DialContext}}
		req, _ := http.NewRequest("GET", "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F"+query, nil)
		if metadata {
			req.Header.Set("Metadata", "true")
		}
		return decode(t, c, req)
	}
	byName, byID, bySite := IdentityBinding(key, "app-id"), IdentityBinding(key, uaiID), IdentityBinding(key, siteID)
	cases := []struct {
		name    string
		call    func() (int, map[string]any)
		status  int
		subject string // the oid the token must carry
	}{
		{"app service, by name", func() (int, map[string]any) { return appService(byName, "") }, 200, principalID},
		{"app service, by ID", func() (int, map[string]any) { return appService(byID, "") }, 200, principalID},
		{"app service, site: system-assigned by default", func() (int, map[string]any) { return appService(bySite, "") }, 200, sitePrincipal},
		{"app service, site: client_id", func() (int, map[string]any) { return appService(bySite, "&client_id="+clientID) }, 200, principalID},
		{"app service, site: principal_id", func() (int, map[string]any) { return appService(bySite, "&principal_id="+principalID) }, 200, principalID},
		{"app service, site: mi_res_id", func() (int, map[string]any) { return appService(bySite, "&mi_res_id="+url.QueryEscape(uaiID)) }, 200, principalID},
		{"app service, unknown client_id", func() (int, map[string]any) {
			return appService(bySite, "&client_id=00000000-0000-0000-0000-000000000001")
		}, 400, ""},
		{"app service, no header", func() (int, map[string]any) { return appService("", "") }, 401, ""},
		{"app service, forged header", func() (int, map[string]any) { return appService(IdentityBinding([]byte("other key"), "app-id"), "") }, 401, ""},
		{"imds, bound", func() (int, map[string]any) { return imdsVia(byName, true, "") }, 200, principalID},
		{"imds, object_id", func() (int, map[string]any) { return imdsVia(bySite, true, "&object_id="+sitePrincipal) }, 200, sitePrincipal},
		{"imds, msi_res_id", func() (int, map[string]any) { return imdsVia(bySite, true, "&msi_res_id="+url.QueryEscape(uaiID)) }, 200, principalID},
		{"imds, two selectors", func() (int, map[string]any) { return imdsVia(bySite, true, "&object_id=a&client_id=b") }, 400, ""},
		{"imds, no Metadata header", func() (int, map[string]any) { return imdsVia(byName, false, "") }, 400, ""},
		{"imds, unbound", func() (int, map[string]any) { return imdsVia("", true, "") }, 400, ""},
		{"imds, unknown name", func() (int, map[string]any) { return imdsVia(IdentityBinding(key, "nobody"), true, "") }, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, body := c.call()
			if st != c.status {
				t.Fatalf("status %d, want %d: %v", st, c.status, body)
			}
			if c.subject == "" {
				return
			}
			tok, _ := body["access_token"].(string)
			if who := whoami(t, s, tok); who["objectId"] != c.subject {
				t.Errorf("token of %v, want %s", who["objectId"], c.subject)
			}
		})
	}

	// The Go SDK's ManagedIdentityCredential, App Service shape, lists
	// resource groups with the Reader role.
	t.Setenv("IDENTITY_ENDPOINT", s.BaseURL+"msi/token")
	t.Setenv("IDENTITY_HEADER", byName)
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: armScope}); err != nil {
		t.Fatalf("ManagedIdentityCredential: %v", err)
	}
	groups, err := armresources.NewResourceGroupsClient(s.Bootstrap.SubscriptionID, cred, &azarm.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.Get(context.Background(), "mi", nil); err != nil {
		t.Fatalf("Reader through the managed identity: %v", err)
	}
	loc := "westeurope"
	if _, err := groups.CreateOrUpdate(context.Background(), "denied", armresources.ResourceGroup{Location: &loc}, nil); err == nil ||
		!strings.Contains(err.Error(), "AuthorizationFailed") {
		t.Fatalf("a Reader created a group: %v", err)
	}

	// Deleting the identity disables its service principal.
	if st, _ := armDo(t, s, admin, "DELETE", uaiID+"?api-version=2023-01-31", nil); st >= 300 {
		t.Fatalf("delete identity: %d", st)
	}
	if st, body := appService(byID, ""); st != http.StatusBadRequest {
		t.Fatalf("token for a deleted identity: %d %v", st, body)
	}
}

func decode(t *testing.T, c *http.Client, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}
