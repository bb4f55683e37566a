package interop

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	ingest "github.com/Azure/azure-sdk-for-go/sdk/monitor/ingestion/azlogs"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// goChildEnv marks the test process re-run as an unmodified Go program.
const goChildEnv = "STEWARD_INTEROP_GO_CHILD"

// TestGoSDKWithDefaultOptionsThroughTheProxy runs
// TestGoSDKDefaultOptionsChild in a fresh process (Go reads HTTPS_PROXY
// and SSL_CERT_FILE once per process) with the environment `steward env`
// prints, plus a managed identity's App Service endpoint.
func TestGoSDKWithDefaultOptionsThroughTheProxy(t *testing.T) {
	t.Parallel()
	survey(t, "Go SDK", "sign-in: DefaultAzureCredential (secret)", "resource groups: armresources CreateOrUpdate",
		"resources: armresources BeginCreateOrUpdateByID", "Key Vault: azsecrets SetSecret", "Key Vault: azkeys CreateKey",
		"logs query: azlogs QueryWorkspace", "managed identity: ManagedIdentityCredential (App Service endpoint)",
		"logs ingestion: azlogs Upload")
	s := serveFull(t)
	endpoint, rule, principal := s.ingestionSetup(t, "go-proxied")
	env := s.identityEnv(t, s.proxyEnv("secret"), "ingestor", false)
	env = append(env, "AZURE_CLIENT_ID="+s.Info.ClientID, "AZURE_CLIENT_SECRET="+s.Info.ClientSecret,
		goChildEnv+"=1", "STEWARD_TEST_DCE="+endpoint, "STEWARD_TEST_DCR="+rule)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^TestGoSDKDefaultOptionsChild$", "-test.v", "-test.count=1")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestGoSDKDefaultOptionsChild") {
		t.Fatalf("child: %v\n%s\nSteward's requests:\n%s", err, out, s.requestLog())
	}
	if !strings.Contains(s.requestLog(), `"path":"/msi/token"`) {
		t.Errorf("ManagedIdentityCredential (identity %s) did not use the App Service endpoint", principal)
	}
	if n := s.Proxy.Refused.Load(); n != 0 {
		t.Errorf("the proxy refused %d requests of the Go SDK", n)
	}
}

// TestGoSDKDefaultOptionsChild is the unmodified program: default
// azcore.ClientOptions (http.ProxyFromEnvironment, the system roots with
// SSL_CERT_FILE), DefaultAzureCredential, armresources, azsecrets,
// azkeys, azlogs query, and azlogs ingestion with
// ManagedIdentityCredential. It resolves no name: every DNS lookup fails
// the test, since Azure's host names are only reached through the proxy.
func TestGoSDKDefaultOptionsChild(t *testing.T) {
	if os.Getenv(goChildEnv) == "" {
		t.Skip("run by TestGoSDKWithDefaultOptionsThroughTheProxy in its own process")
	}
	var mu sync.Mutex
	var lookups []string
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		mu.Lock()
		lookups = append(lookups, address)
		mu.Unlock()
		return nil, errors.New("test guard: no DNS: Azure's host names are reached through the proxy only")
	}}
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		if len(lookups) > 0 {
			t.Errorf("DNS lookups escaped: %v", lookups)
		}
	}()
	ctx := context.Background()
	sub := os.Getenv("AZURE_SUBSCRIPTION_ID")
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := armresources.NewResourceGroupsClient(sub, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	loc := "westeurope"
	if _, err := groups.CreateOrUpdate(ctx, "go-default", armresources.ResourceGroup{Location: &loc}, nil); err != nil {
		t.Fatalf("armresources: %v", err)
	}
	vault := "https://steward.vault.azure.net/"
	secrets, err := azsecrets.NewClient(vault, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := "s3cret"
	set, err := secrets.SetSecret(ctx, "go-default", azsecrets.SetSecretParameters{Value: &v}, nil)
	if err != nil || set.ID.Name() != "go-default" {
		t.Fatalf("azsecrets: %v", err)
	}
	keys, err := azkeys.NewClient(vault, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	kty := azkeys.KeyTypeRSA
	key, err := keys.CreateKey(ctx, "go-default", azkeys.CreateKeyParameters{Kty: &kty}, nil)
	if err != nil || key.Key.KID.Name() != "go-default" {
		t.Fatalf("azkeys: %v", err)
	}
	ws, err := armresources.NewClient(sub, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	poller, err := ws.BeginCreateOrUpdateByID(ctx, "/subscriptions/"+sub+"/resourceGroups/go-default/providers/Microsoft.OperationalInsights/workspaces/go",
		"2022-10-01", armresources.GenericResource{Location: &loc}, nil)
	if err != nil {
		t.Fatalf("workspace: %v", err)
	}
	created, err := poller.PollUntilDone(ctx, nil)
	if err != nil {
		t.Fatalf("workspace: %v", err)
	}
	customer, _ := created.Properties.(map[string]any)["customerId"].(string)
	logs, err := query.NewClient(cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := "print x = 1"
	res, err := logs.QueryWorkspace(ctx, customer, query.QueryBody{Query: &q}, nil)
	if err != nil || len(res.Tables) != 1 || len(res.Tables[0].Rows) != 1 {
		t.Fatalf("azlogs query: %v %+v", err, res)
	}
	mi, err := azidentity.NewManagedIdentityCredential(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mi.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://monitor.azure.com/.default"}}); err != nil {
		t.Fatalf("ManagedIdentityCredential: %v", err)
	}
	up, err := ingest.NewClient(os.Getenv("STEWARD_TEST_DCE"), mi, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := json.Marshal([]map[string]any{{"TimeGenerated": time.Now().UTC().Format(time.RFC3339), "Message": "from go"}})
	if _, err := up.Upload(ctx, os.Getenv("STEWARD_TEST_DCR"), "Custom-Proxied", rows, nil); err != nil {
		t.Fatalf("azlogs ingestion with ManagedIdentityCredential: %v", err)
	}
}
