package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/steward-gov/steward/internal/server"
)

// proxyEnv is what `steward env --data DIR` prints when the proxy is on:
// the administrator's credentials, HTTPS_PROXY and HTTP_PROXY (both
// spellings) to Steward's proxy, NO_PROXY for loopback, the CA bundle, and
// no AZURE_AUTHORITY_HOST. Children get it on top of an environment
// stripped of any proxy or Azure setting of the machine, so that no
// request can leave loopback: Azure's host names resolve to nothing here
// and are only reachable through the proxy.
func (s *served) proxyEnv(credential string) []string {
	var e []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "AZURE_"), strings.HasPrefix(k, "IDENTITY_"), strings.HasPrefix(k, "MSI_"),
			strings.EqualFold(k, "HTTPS_PROXY"), strings.EqualFold(k, "HTTP_PROXY"), strings.EqualFold(k, "NO_PROXY"),
			strings.EqualFold(k, "ALL_PROXY"), k == "SSL_CERT_FILE", k == "REQUESTS_CA_BUNDLE", k == "CURL_CA_BUNDLE":
			continue
		}
		e = append(e, kv)
	}
	e = append(e,
		"AZURE_TENANT_ID="+s.Info.TenantID,
		"AZURE_CLIENT_ID="+s.Info.ClientID,
		"AZURE_SUBSCRIPTION_ID="+s.Info.SubscriptionID,
		"AZURE_RESOURCE_MANAGER_ENDPOINT="+s.Info.ARMEndpoint,
		"HTTPS_PROXY="+s.ProxyURL, "https_proxy="+s.ProxyURL,
		"HTTP_PROXY="+s.ProxyURL, "http_proxy="+s.ProxyURL,
		"NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=localhost,127.0.0.1,::1",
		"SSL_CERT_FILE="+s.Bundle, "REQUESTS_CA_BUNDLE="+s.Bundle, "CURL_CA_BUNDLE="+s.Bundle,
		"PYTHONDONTWRITEBYTECODE=1",
	)
	if credential == "certificate" {
		return append(e, "AZURE_CLIENT_CERTIFICATE_PATH="+s.Info.CertificatePath)
	}
	return append(e, "AZURE_CLIENT_SECRET="+s.Info.ClientSecret)
}

// identityEnv is `steward env --managed-identity subject` on top of env:
// no administrator credentials, the App Service endpoint (unless imds),
// and the binding as the proxy's password for IMDS.
func (s *served) identityEnv(t *testing.T, env []string, subject string, imds bool) []string {
	t.Helper()
	key, err := server.EnsureBindingKey(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	binding := server.IdentityBinding(key, subject)
	pu, _ := url.Parse(s.ProxyURL)
	pu.User = url.UserPassword("msi", binding)
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "HTTP_PROXY", "http_proxy":
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "HTTP_PROXY="+pu.String(), "http_proxy="+pu.String())
	if !imds {
		out = append(out, "IDENTITY_ENDPOINT="+s.BaseURL+"msi/token", "IDENTITY_HEADER="+binding)
	}
	return out
}

// arm sends a management request as the administrator, in process.
func (s *served) arm(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	cred, err := s.SecretCredential(s.Info.ClientID, s.Info.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, s.BaseURL+strings.TrimPrefix(path, "/"), rd)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Transport().RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
	}
	return out
}

func propsOf(m map[string]any) map[string]any { p, _ := m["properties"].(map[string]any); return p }

// ingestionSetup creates, in group, a workspace with table Proxied_CL, a
// data collection endpoint and rule (stream Custom-Proxied), and a
// user-assigned identity "ingestor" with Monitoring Metrics Publisher on
// the rule. It returns the endpoint ARM gives the DCE, the rule's
// immutable ID and the identity's principal ID.
func (s *served) ingestionSetup(t *testing.T, group string) (endpoint, rule, principal string) {
	t.Helper()
	rg := "/subscriptions/" + s.Info.SubscriptionID + "/resourceGroups/" + group
	s.arm(t, "PUT", rg+"?api-version=2021-04-01", map[string]any{"location": "westeurope"})
	ws := rg + "/providers/Microsoft.OperationalInsights/workspaces/ingest"
	s.arm(t, "PUT", ws+"?api-version=2022-10-01", map[string]any{"location": "westeurope"})
	cols := []any{map[string]any{"name": "TimeGenerated", "type": "datetime"}, map[string]any{"name": "Message", "type": "string"}}
	s.arm(t, "PUT", ws+"/tables/Proxied_CL?api-version=2022-10-01", map[string]any{"properties": map[string]any{
		"schema": map[string]any{"name": "Proxied_CL", "columns": cols}}})
	dceID := rg + "/providers/Microsoft.Insights/dataCollectionEndpoints/proxied"
	dce := s.arm(t, "PUT", dceID+"?api-version=2022-06-01", map[string]any{"location": "westeurope", "properties": map[string]any{}})
	endpoint, _ = propsOf(dce)["logsIngestion"].(map[string]any)["endpoint"].(string)
	dcrID := rg + "/providers/Microsoft.Insights/dataCollectionRules/proxied"
	dcr := s.arm(t, "PUT", dcrID+"?api-version=2022-06-01", map[string]any{"location": "westeurope", "properties": map[string]any{
		"dataCollectionEndpointId": dceID,
		"streamDeclarations":       map[string]any{"Custom-Proxied": map[string]any{"columns": cols}},
		"destinations":             map[string]any{"logAnalytics": []any{map[string]any{"name": "ws", "workspaceResourceId": ws}}},
		"dataFlows": []any{map[string]any{"streams": []any{"Custom-Proxied"}, "destinations": []any{"ws"},
			"transformKql": "source", "outputStream": "Custom-Proxied_CL"}}}})
	rule, _ = propsOf(dcr)["immutableId"].(string)
	uai := s.arm(t, "PUT", rg+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ingestor?api-version=2023-01-31",
		map[string]any{"location": "westeurope"})
	principal, _ = propsOf(uai)["principalId"].(string)
	s.arm(t, "PUT", dcrID+"/providers/Microsoft.Authorization/roleAssignments/7a1d3f5e-9c2b-4e8d-a6f0-3b5c7d9e1f20?api-version=2022-04-01",
		map[string]any{"properties": map[string]any{
			"roleDefinitionId": "/subscriptions/" + s.Info.SubscriptionID + "/providers/Microsoft.Authorization/roleDefinitions/3913510d-42f4-4e42-8a64-420c390055eb",
			"principalId":      principal, "principalType": "ServicePrincipal"}})
	if !strings.HasSuffix(endpoint, ".ingest.monitor.azure.com") || rule == "" || principal == "" {
		t.Fatalf("setup: endpoint %q rule %q principal %q", endpoint, rule, principal)
	}
	return endpoint, rule, principal
}

// runChild runs a program with env and decodes the JSON it prints.
func runChild(t *testing.T, s *served, env []string, out any, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s\nSteward's requests:\n%s", name, strings.Join(args, " "), err, stderr.String(), s.requestLog())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("%s: output %q: %v\n%s", name, stdout, err, stderr.String())
	}
}

// TestPythonSDKWithDefaultOptionsThroughTheProxy runs unmodified Python
// code (testdata/proxied.py: default options, Azure's host names) with
// the environment `steward env` prints: DefaultAzureCredential,
// ResourceManagementClient, PolicyInsightsClient (sync and aio), the three
// Key Vault clients, LogsQueryClient (query and batch) and
// LogsIngestionClient with ManagedIdentityCredential (App Service
// endpoint); then ManagedIdentityCredential on IMDS through the proxy.
func TestPythonSDKWithDefaultOptionsThroughTheProxy(t *testing.T) {
	t.Parallel()
	survey(t, "Python SDK", "sign-in: DefaultAzureCredential (secret)",
		"resource groups: ResourceManagementClient create_or_update", "resource groups: ResourceManagementClient list",
		"resources: ResourceManagementClient begin_create_or_update_by_id",
		"policy states: PolicyInsightsClient list_query_results (sync)", "policy states: PolicyInsightsClient list_query_results (aio)",
		"Key Vault: SecretClient set_secret", "Key Vault: SecretClient get_secret", "Key Vault: KeyClient create_rsa_key",
		"Key Vault: CertificateClient begin_create_certificate",
		"logs query: LogsQueryClient query_workspace", "logs query: LogsQueryClient query_batch",
		"logs ingestion: LogsIngestionClient upload", "managed identity: ManagedIdentityCredential (App Service endpoint)",
		"managed identity: ManagedIdentityCredential (IMDS)")
	py := pythonWith(t, "azure.identity", "azure.mgmt.resource", "azure.mgmt.policyinsights", "azure.keyvault.secrets",
		"azure.keyvault.keys", "azure.keyvault.certificates", "azure.monitor.query", "azure.monitor.ingestion", "aiohttp")
	s := serveFull(t)
	endpoint, rule, principal := s.ingestionSetup(t, "py-proxied")
	dir, _ := filepath.Abs("testdata")
	env := s.identityEnv(t, s.proxyEnv("secret"), "ingestor", false)
	env = append(env, "AZURE_CLIENT_ID="+s.Info.ClientID, "AZURE_CLIENT_SECRET="+s.Info.ClientSecret)
	var got struct {
		Groups                []string
		States, StatesAsync   int
		SecretID, SecretValue string
		KeyID, CertificateID  string
		Query                 [][]any
		Batch                 [][][]any
		Uploaded              bool
	}
	runChild(t, s, env, &got, py, filepath.Join(dir, "proxied.py"), "py-proxied", endpoint, rule)
	vault := "https://steward.vault.azure.net/"
	switch {
	case !contains(got.Groups, "py-proxied"):
		t.Errorf("groups %v", got.Groups)
	case got.States != got.StatesAsync:
		t.Errorf("policy states: sync %d, aio %d", got.States, got.StatesAsync)
	case !strings.HasPrefix(got.SecretID, vault+"secrets/proxied/") || got.SecretValue != "s3cret":
		t.Errorf("secret %q = %q", got.SecretID, got.SecretValue)
	case !strings.HasPrefix(got.KeyID, vault+"keys/proxied-key/"), !strings.HasPrefix(got.CertificateID, vault+"certificates/proxied-cert/"):
		t.Errorf("key %q, certificate %q", got.KeyID, got.CertificateID)
	case len(got.Query) != 1 || len(got.Batch) != 2 || !got.Uploaded:
		t.Errorf("logs: query %v batch %v uploaded %v", got.Query, got.Batch, got.Uploaded)
	}
	if !strings.Contains(s.requestLog(), `"path":"/msi/token"`) {
		t.Error("ManagedIdentityCredential did not use the App Service endpoint")
	}

	var tok struct{ Token string }
	runChild(t, s, s.identityEnv(t, s.proxyEnv("secret"), "ingestor", true), &tok, py, filepath.Join(dir, "imds.py"))
	p, err := s.Validator("https://management.azure.com").Validate(context.Background(), tok.Token)
	if err != nil || p.ObjectID != principal {
		t.Fatalf("IMDS token: %v, principal %s, want %s", err, p.ObjectID, principal)
	}
	if s.Proxy.Refused.Load() != 0 {
		t.Errorf("the proxy refused %d requests: a client tried a host Steward does not serve\n%s", s.Proxy.Refused.Load(), s.requestLog())
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
