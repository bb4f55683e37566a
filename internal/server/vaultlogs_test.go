package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/vault"
)

// vaultLogsEnv is a Steward with the cloud, logs and vaults, exporting
// vault audit logs through a forwarder the test runs.
type vaultLogsEnv struct {
	*logsEnv
	forward VaultLogForwarder
	vaultOp azcore.ClientOptions // in-process transport to the vaults
	rg      string
	dir     string
	query   *query.Client
}

func newVaultLogsEnv(t *testing.T) *vaultLogsEnv {
	t.Helper()
	e, _ := startVaultLogsEnv(t, t.TempDir(), VaultLogOptions{Disabled: true})
	e.mustARM(t, "PUT", e.rg, "2021-04-01", map[string]any{"location": "eastus"})
	return e
}

// startVaultLogsEnv starts a Steward on dir with the vault log export
// configured by opts; it returns the environment and the stop function.
func startVaultLogsEnv(t *testing.T, dir string, opts VaultLogOptions) (*vaultLogsEnv, func() error) {
	t.Helper()
	var forward VaultLogForwarder
	s, stop := startSteward(t, dir, CloudService(), LogsService(), VaultService(VaultOptions{}),
		VaultLogService(opts, func(f VaultLogForwarder) { forward = f }))
	e := &vaultLogsEnv{logsEnv: newLogsEnvFor(t, s, dir), forward: forward, dir: dir}
	e.vaultOp = sdkOptions(s)
	e.vaultOp.Transport = s.Transport()
	e.rg = "/subscriptions/" + e.sub + "/resourceGroups/vaults"
	qOpts := &query.ClientOptions{ClientOptions: e.opts}
	qOpts.Cloud.Services = map[cloudServiceName]cloudServiceConfig{
		query.ServiceName: {Audience: LogAnalyticsAudience, Endpoint: strings.TrimSuffix(s.BaseURL, "/") + "/v1"},
	}
	qc, err := query.NewClient(e.cred, qOpts)
	if err != nil {
		t.Fatal(err)
	}
	e.query = qc
	return e, stop
}

// workspace creates a workspace and returns its resource ID and customer
// ID.
func (e *vaultLogsEnv) workspace(t *testing.T, name string) (string, string) {
	t.Helper()
	id := e.rg + "/providers/Microsoft.OperationalInsights/workspaces/" + name
	ws := e.mustARM(t, "PUT", id, "2022-10-01", map[string]any{"location": "eastus"})
	customer, _ := props(ws)["customerId"].(string)
	return id, customer
}

// vault creates a vault and returns its resource ID and URI.
func (e *vaultLogsEnv) vault(t *testing.T, name string) (string, string) {
	t.Helper()
	id := e.rg + "/providers/Microsoft.KeyVault/vaults/" + name
	out := e.mustARM(t, "PUT", id, "2023-07-01", map[string]any{"location": "eastus", "properties": map[string]any{
		"tenantId": e.info.TenantID, "sku": map[string]any{"family": "A", "name": "standard"}, "enableRbacAuthorization": true}})
	uri, _ := props(out)["vaultUri"].(string)
	return id, uri
}

// setting puts a diagnostic setting on a resource.
func (e *vaultLogsEnv) setting(t *testing.T, resource, name string, body map[string]any) string {
	t.Helper()
	id := resource + "/providers/Microsoft.Insights/diagnosticSettings/" + name
	e.mustARM(t, "PUT", id, "2021-05-01-preview", map[string]any{"properties": body})
	return id
}

// rows runs a query in a workspace.
func (e *vaultLogsEnv) rows(t *testing.T, customerID, q string) []query.Row {
	t.Helper()
	res, err := e.query.QueryWorkspace(context.Background(), customerID, query.QueryBody{Query: to.Ptr(q)}, nil)
	if err != nil || res.Error != nil || len(res.Tables) != 1 {
		t.Fatalf("%s: %v %v", q, err, res.Error)
	}
	return res.Tables[0].Rows
}

// TestVaultAuditLogsFlowToDiagnosticSettingWorkspaces drives a vault with
// the Azure SDK (a forbidden caller, an unauthenticated request and a
// missing secret included), runs the forwarder and reads the workspaces
// with the query SDK: the default setting's workspace has AzureDiagnostics
// rows with Key Vault's columns, the Dedicated one AZKVAuditLogs rows; a
// vault whose setting does not enable the audit category, and one with no
// setting, send nothing; a deleted setting stops its flow; and no row
// holds a secret value or a token.
func TestVaultAuditLogsFlowToDiagnosticSettingWorkspaces(t *testing.T) {
	e := newVaultLogsEnv(t)
	ctx := context.Background()
	wsDiag, custDiag := e.workspace(t, "kv-diag")
	wsDedicated, custDedicated := e.workspace(t, "kv-dedicated")
	vaultID, vaultURI := e.vault(t, "audited-kv")
	quietID, quietURI := e.vault(t, "quiet-kv")
	bareID, bareURI := e.vault(t, "bare-kv")

	// Operations before any setting are not exported.
	admin := adminCredential(t, e.dir, e.vaultOp)
	secrets, err := azsecrets.NewClient(vaultURI, admin, &azsecrets.ClientOptions{ClientOptions: e.vaultOp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.SetSecret(ctx, "before", azsecrets.SetSecretParameters{Value: to.Ptr("before-the-setting")}, nil); err != nil {
		t.Fatal(err)
	}
	groupSetting := e.setting(t, vaultID, "audit-to-diag", map[string]any{"workspaceId": wsDiag,
		"logs": []any{map[string]any{"categoryGroup": "audit", "enabled": true}}})
	e.setting(t, vaultID, "audit-dedicated", map[string]any{"workspaceId": wsDedicated, "logAnalyticsDestinationType": "Dedicated",
		"logs": []any{map[string]any{"category": "AuditEvent", "enabled": true}}})
	e.setting(t, quietID, "disabled", map[string]any{"workspaceId": wsDiag,
		"logs": []any{map[string]any{"category": "AuditEvent", "enabled": false}, map[string]any{"category": "AzurePolicyEvaluationDetails", "enabled": true}}})

	const value = "Pa55-word-NEVER-in-a-log"
	if _, err := secrets.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{Value: to.Ptr(value)}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := secrets.GetSecret(ctx, "db-password", "", nil); err != nil || *got.Value != value {
		t.Fatalf("get: %v", err)
	}
	var re *azcore.ResponseError
	if _, err := secrets.GetSecret(ctx, "missing", "", nil); !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		t.Fatalf("missing secret: %v", err)
	}
	for pg := secrets.NewListSecretPropertiesPager(nil); pg.More(); {
		if _, err := pg.NextPage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := azkeys.NewClient(vaultURI, admin, &azkeys.ClientOptions{ClientOptions: e.vaultOp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.CreateKey(ctx, "signer", azkeys.CreateKeyParameters{Kty: to.Ptr(azkeys.KeyTypeRSA), KeySize: to.Ptr(int32(2048))}, nil); err != nil {
		t.Fatal(err)
	}
	digest := make([]byte, 32)
	if _, err := keys.Sign(ctx, "signer", "", azkeys.SignParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmRS256), Value: digest}, nil); err != nil {
		t.Fatal(err)
	}

	// A caller without a role on the vault: 403, logged with its identity.
	app, sp, err := e.s.Identity.CreateApplication(ctx, e.info.TenantID, "no-vault-role")
	if err != nil {
		t.Fatal(err)
	}
	appSecret, _, err := e.s.Identity.AddClientSecret(ctx, e.info.TenantID, app.AppID, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	outsider, err := azidentity.NewClientSecretCredential(e.info.TenantID, app.AppID, appSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: e.vaultOp, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	denied, _ := azsecrets.NewClient(vaultURI, outsider, &azsecrets.ClientOptions{ClientOptions: e.vaultOp})
	if _, err := denied.GetSecret(ctx, "db-password", "", nil); !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		t.Fatalf("outsider: %v", err)
	}
	// No token at all: 401, logged too.
	req, _ := http.NewRequest("GET", strings.TrimSuffix(vaultURI, "/")+"/secrets/db-password?api-version=7.5", nil)
	resp, err := e.s.Transport().RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	// A user without a role: logged with the user's UPN.
	user, err := e.s.Identity.CreateUser(ctx, e.info.TenantID, "ada@contoso.test", "Ada", "a-l0ng-Passphrase!")
	if err != nil {
		t.Fatal(err)
	}
	userTok, _, err := e.s.Identity.IssueUserToken(ctx, e.info.TenantID, user.ID, e.info.ClientID, "https://vault.azure.net",
		identity.SignIn{AMR: []string{"pwd"}, AuthTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("GET", strings.TrimSuffix(vaultURI, "/")+"/secrets/db-password?api-version=7.5", nil)
	req.Header.Set("Authorization", "Bearer "+userTok)
	if resp, err = e.s.Transport().RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("user without a role: %d", resp.StatusCode)
	}
	// The other vaults: one whose setting does not enable AuditEvent, one
	// with no setting.
	for _, uri := range []string{quietURI, bareURI} {
		c, _ := azsecrets.NewClient(uri, admin, &azsecrets.ClientOptions{ClientOptions: e.vaultOp})
		if _, err := c.SetSecret(ctx, "other", azsecrets.SetSecretParameters{Value: to.Ptr(value)}, nil); err != nil {
			t.Fatal(err)
		}
	}

	n, err := e.forward(ctx)
	if err != nil || n == 0 {
		t.Fatalf("forward: %d rows, %v", n, err)
	}
	if n2, err := e.forward(ctx); err != nil || n2 != 0 {
		t.Fatalf("second pass: %d rows, %v; want 0", n2, err)
	}

	upperID := strings.ToUpper(vaultID)
	got := e.rows(t, custDiag, `AzureDiagnostics
| where ResourceProvider == "MICROSOFT.KEYVAULT"
| sort by TimeGenerated asc
| project OperationName, Status = toint(httpStatusCode_d), ResultType, ResultSignature, Category, ResourceType, Resource, ResourceId,
  ResourceGroup, SubscriptionId, Oid = tostring(identity_claim_oid_g), id_s, requestUri_s, isRbacAuthorized_b, OperationVersion, DurationMs, ResultDescription,
  identity_claim_upn_s`)
	var ops []string
	for _, r := range got {
		ops = append(ops, fmt.Sprint(r[0], " ", r[1], " ", r[2]))
		if r[4] != "AuditEvent" || r[5] != "VAULTS" || r[6] != "AUDITED-KV" || r[7] != upperID || r[8] != "VAULTS" || r[9] != strings.ToUpper(e.sub) {
			t.Errorf("row names the resource wrongly: %v", r)
		}
		if uri, _ := r[12].(string); !strings.HasPrefix(uri, strings.TrimSuffix(vaultURI, "/")+"/") || !strings.Contains(uri, "api-version=") {
			t.Errorf("requestUri_s = %v", r[12])
		}
	}
	// A new SDK client's first request carries no token and gets Key
	// Vault's 401 challenge: Azure logs those too.
	want := []string{
		"SecretSet 200 Success", "SecretGet 200 Success", "SecretGet 404 NotFound", "SecretList 200 Success",
		"KeyCreate 401 Unauthorized", "KeyCreate 200 Success", "KeySign 200 Success",
		"SecretGet 401 Unauthorized", "SecretGet 403 Forbidden", "SecretGet 401 Unauthorized", "SecretGet 403 Forbidden",
	}
	if !slices.Equal(ops, want) {
		t.Errorf("AzureDiagnostics operations:\n got %q\nwant %q", ops, want)
	}
	byOp := func(rows []query.Row, op string, status float64) query.Row {
		for _, r := range rows {
			if r[0] == op && fmt.Sprint(r[1]) == fmt.Sprint(status) {
				return r
			}
		}
		t.Fatalf("no %s %v row", op, status)
		return nil
	}
	if r := got[len(got)-1]; r[10] != user.ID || r[17] != "ada@contoso.test" {
		t.Errorf("user's row: oid %v, upn %v", r[10], r[17])
	}
	if r := byOp(got, "SecretGet", 403); r[10] != sp.ID || r[17] != "" || r[13] != false || !strings.Contains(fmt.Sprint(r[16]), "Caller is not authorized") {
		t.Errorf("forbidden row: oid %v (want %s), rbac %v, description %v", r[10], sp.ID, r[13], r[16])
	}
	if r := byOp(got, "SecretGet", 200); r[10] != e.info.ObjectID || r[11] != strings.TrimSuffix(vaultURI, "/")+"/secrets/db-password" || r[13] != true || r[3] != "OK" {
		t.Errorf("get row: %v", r)
	}
	if r := byOp(got, "SecretGet", 401); r[10] != "" {
		t.Errorf("unauthenticated row has an identity: %v", r)
	}

	dedicated := e.rows(t, custDedicated, `AZKVAuditLogs
| sort by TimeGenerated asc
| project OperationName, HttpStatusCode, ResultType, Oid = tostring(Identity.claim.oid), Id, _ResourceId, Properties.httpStatusCode`)
	ops = ops[:0]
	for _, r := range dedicated {
		ops = append(ops, fmt.Sprint(r[0], " ", r[1], " ", r[2]))
		if r[5] != strings.ToLower(vaultID) || fmt.Sprint(r[6]) != fmt.Sprint(r[1]) {
			t.Errorf("AZKVAuditLogs row: %v", r)
		}
	}
	if !slices.Equal(ops, want) {
		t.Errorf("AZKVAuditLogs operations:\n got %q\nwant %q", ops, want)
	}
	if r := e.rows(t, custDiag, `AzureDiagnostics | where ResourceId in ("`+strings.ToUpper(quietID)+`", "`+strings.ToUpper(bareID)+`") | count`); fmt.Sprint(r[0][0]) != "0" {
		t.Errorf("vaults without an enabled audit setting logged %v rows", r[0][0])
	}

	// A deleted setting stops its flow; the other goes on.
	e.mustARM(t, "DELETE", groupSetting, "2021-05-01-preview", nil)
	if _, err := secrets.GetSecret(ctx, "db-password", "", nil); err != nil {
		t.Fatal(err)
	}
	if n, err := e.forward(ctx); err != nil || n != 1 {
		t.Fatalf("after delete: %d rows, %v; want 1 (the Dedicated workspace)", n, err)
	}
	if r := e.rows(t, custDiag, `AzureDiagnostics | count`); fmt.Sprint(r[0][0]) != fmt.Sprint(len(want)) {
		t.Errorf("rows after the setting was deleted: %v, want %d", r[0][0], len(want))
	}
	if r := e.rows(t, custDedicated, `AZKVAuditLogs | count`); fmt.Sprint(r[0][0]) != fmt.Sprint(len(want)+1) {
		t.Errorf("Dedicated rows: %v, want %d", r[0][0], len(want)+1)
	}

	// Nothing secret in any row: no secret value, no token.
	tok, err := admin.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ ws, table string }{{custDiag, "AzureDiagnostics"}, {custDedicated, "AZKVAuditLogs"}} {
		for _, r := range e.rows(t, c.ws, c.table) {
			for _, v := range r {
				s := fmt.Sprint(v)
				for _, bad := range []string{value, "before-the-setting", tok.Token, userTok, appSecret, e.info.ClientSecret} {
					if strings.Contains(s, bad) {
						t.Fatalf("%s row holds a secret (%.12s...): %v", c.table, bad, r)
					}
				}
				if strings.Contains(s, "eyJ") {
					t.Fatalf("%s row holds something like a token: %v", c.table, r)
				}
			}
		}
	}
}

// TestVaultAuditBufferIsBounded checks that a full buffer drops new events
// and counts them, and that taking the events empties it.
func TestVaultAuditBufferIsBounded(t *testing.T) {
	b := &vaultAuditBuffer{max: 2, half: make(chan struct{}, 1)}
	for i := range 5 {
		b.Record(vault.AuditEvent{OperationName: fmt.Sprint("op", i)})
	}
	select {
	case <-b.half:
	default:
		t.Fatal("reaching half the bound did not wake the forwarder")
	}
	got := b.take()
	if len(got) != 2 || got[0].OperationName != "op0" || got[1].OperationName != "op1" {
		t.Fatalf("kept %+v, want op0 and op1", got)
	}
	if d := b.takeDropped(); d != 3 {
		t.Fatalf("dropped %d, want 3", d)
	}
	if d := b.takeDropped(); d != 0 || len(b.take()) != 0 {
		t.Fatalf("the buffer did not reset")
	}
	b.Record(vault.AuditEvent{OperationName: "again"})
	// Events a pass could not place go back first, within the bound.
	if n := b.requeue([]vault.AuditEvent{{OperationName: "old1"}, {OperationName: "old2"}}); n != 1 {
		t.Fatalf("requeued %d, want 1 (the bound is 2)", n)
	}
	if got := b.take(); len(got) != 2 || got[0].OperationName != "old1" || got[1].OperationName != "again" {
		t.Fatalf("after requeue: %+v", got)
	}
}

// TestVaultAuditLogsAreSentAtACleanStop runs the background forwarder
// with a period longer than the test: the events of a request are sent
// when the server stops, and a restarted server finds them in the
// workspace.
func TestVaultAuditLogsAreSentAtACleanStop(t *testing.T) {
	dir := t.TempDir()
	e, stop := startVaultLogsEnv(t, dir, VaultLogOptions{Every: time.Hour})
	ctx := context.Background()
	e.mustARM(t, "PUT", e.rg, "2021-04-01", map[string]any{"location": "eastus"})
	wsID, customer := e.workspace(t, "stop-ws")
	vaultID, vaultURI := e.vault(t, "stop-kv")
	e.setting(t, vaultID, "all", map[string]any{"workspaceId": wsID, "logs": []any{map[string]any{"categoryGroup": "allLogs", "enabled": true}}})
	c, err := azsecrets.NewClient(vaultURI, adminCredential(t, dir, e.vaultOp), &azsecrets.ClientOptions{ClientOptions: e.vaultOp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetSecret(ctx, "kept", azsecrets.SetSecretParameters{Value: to.Ptr("v")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	again, _ := startVaultLogsEnv(t, dir, VaultLogOptions{Disabled: true})
	got := again.rows(t, customer, `AzureDiagnostics | sort by TimeGenerated asc | project OperationName, toint(httpStatusCode_d)`)
	var ops []string
	for _, r := range got {
		ops = append(ops, fmt.Sprint(r[0], " ", r[1]))
	}
	if want := []string{"SecretSet 401", "SecretSet 200"}; !slices.Equal(ops, want) {
		t.Fatalf("after a clean stop: %q, want %q", ops, want)
	}
}

// BenchmarkVaultLogForward10k is one forwarding pass of 10,000 audit
// events of a vault with one setting (AzureDiagnostics): the settings
// read, the rows built and appended in batches.
func BenchmarkVaultLogForward10k(b *testing.B) {
	dir := b.TempDir()
	var forward VaultLogForwarder
	s, _ := startSteward(b, dir, CloudService(), LogsService(), VaultService(VaultOptions{}),
		VaultLogService(VaultLogOptions{Disabled: true}, func(f VaultLogForwarder) { forward = f }))
	e := newLogsEnvFor(b, s, dir)
	rg := "/subscriptions/" + e.sub + "/resourceGroups/bench"
	e.mustARM(b, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	wsID := rg + "/providers/Microsoft.OperationalInsights/workspaces/bench"
	e.mustARM(b, "PUT", wsID, "2022-10-01", map[string]any{"location": "eastus"})
	vaultID := rg + "/providers/Microsoft.KeyVault/vaults/bench-kv"
	e.mustARM(b, "PUT", vaultID, "2023-07-01", map[string]any{"location": "eastus", "properties": map[string]any{
		"tenantId": e.info.TenantID, "sku": map[string]any{"family": "A", "name": "standard"}}})
	e.mustARM(b, "PUT", vaultID+"/providers/Microsoft.Insights/diagnosticSettings/all", "2021-05-01-preview", map[string]any{"properties": map[string]any{
		"workspaceId": wsID, "logs": []any{map[string]any{"categoryGroup": "allLogs", "enabled": true}}}})
	buf := s.vaultAudit.Load()
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		now := time.Now().UTC()
		for i := range 10000 {
			buf.Record(vault.AuditEvent{Time: now, VaultID: vaultID, VaultName: "bench-kv", OperationName: "SecretGet", APIVersion: "7.5",
				Status: 200, Duration: time.Millisecond, CallerIP: "10.0.0.4", ClientInfo: "azsdk-go-azsecrets/v1.4.0",
				RequestURI: fmt.Sprintf("https://bench-kv.vault.azure.net/secrets/s%d?api-version=7.5", i),
				ID:         fmt.Sprintf("https://bench-kv.vault.azure.net/secrets/s%d", i), TenantID: e.info.TenantID, ObjectID: e.info.ObjectID,
				AppID: e.info.ClientID, Authorized: true})
		}
		b.StartTimer()
		if n, err := forward(ctx); err != nil || n != 10000 {
			b.Fatalf("forward: %d rows, %v", n, err)
		}
	}
}
