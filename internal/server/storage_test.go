package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/rbac"
)

// storageEnv is a Steward with the storage service, one storage account
// created through armstorage, and the account's key.
type storageEnv struct {
	s        *Steward
	stop     func() error
	dir      string
	accounts *armstorage.AccountsClient
	account  string
	rg       string
	key      string
	tableURL string
}

func newStorageEnv(t testing.TB) *storageEnv {
	t.Helper()
	dir := t.TempDir()
	s, stop := startSteward(t, dir, CloudService(), StorageService())
	ctx := context.Background()
	opts := s.ARMClientOptions()
	cred := adminCredential(t, dir, opts)
	sub := s.Bootstrap.SubscriptionID
	rg := "data"
	id := "/subscriptions/" + sub + "/resourceGroups/" + rg
	if _, _, err := s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: id, Type: cloud.TypeResourceGroup,
		Doc: map[string]any{"id": id, "name": rg, "type": cloud.TypeResourceGroup, "location": "westeurope", "properties": map[string]any{}}}); err != nil {
		t.Fatal(err)
	}
	ac, err := armstorage.NewAccountsClient(sub, cred, &arm.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	e := &storageEnv{s: s, stop: stop, dir: dir, accounts: ac, account: "registry000", rg: rg}
	poller, err := ac.BeginCreate(ctx, rg, e.account, armstorage.AccountCreateParameters{
		Kind: to.Ptr(armstorage.KindStorageV2), Location: to.Ptr("westeurope"),
		SKU: &armstorage.SKU{Name: to.Ptr(armstorage.SKUNameStandardLRS)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Properties
	if p == nil || p.PrimaryEndpoints == nil || *p.ProvisioningState != armstorage.ProvisioningStateSucceeded {
		t.Fatalf("created account = %+v", res)
	}
	e.tableURL = *p.PrimaryEndpoints.Table
	if want := s.BaseURL + "tables/" + e.account + "/"; e.tableURL != want {
		t.Fatalf("primaryEndpoints.table = %s, want %s", e.tableURL, want)
	}
	if !*p.EnableHTTPSTrafficOnly || *p.MinimumTLSVersion != armstorage.MinimumTLSVersionTLS12 || *p.NetworkRuleSet.DefaultAction != armstorage.DefaultActionAllow {
		t.Fatalf("defaults = %+v", p)
	}
	keys, err := ac.ListKeys(ctx, rg, e.account, nil)
	if err != nil || len(keys.Keys) != 2 || *keys.Keys[0].KeyName != "key1" || len(*keys.Keys[0].Value) != 88 {
		t.Fatalf("listKeys: %v", err)
	}
	e.key = *keys.Keys[0].Value
	return e
}

// tables is an aztables service client over TLS with the account key.
func (e *storageEnv) tables(t testing.TB, key string) *aztables.ServiceClient {
	t.Helper()
	cred, err := aztables.NewSharedKeyCredential(e.account, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := aztables.NewServiceClientWithSharedKey(strings.TrimSuffix(e.tableURL, "/"), cred, &aztables.ClientOptions{ClientOptions: sdkOptions(e.s)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// code is the service error code of an SDK error ("" for none).
func code(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestStorageAccountLifecycleWithArmstorage(t *testing.T) {
	e := newStorageEnv(t)
	ctx := context.Background()
	got, err := e.accounts.GetProperties(ctx, e.rg, e.account, nil)
	if err != nil || *got.Kind != armstorage.KindStorageV2 || *got.SKU.Tier != armstorage.SKUTierStandard {
		t.Fatalf("get: %+v %v", got, err)
	}
	avail, err := e.accounts.CheckNameAvailability(ctx, armstorage.AccountCheckNameAvailabilityParameters{
		Name: to.Ptr(e.account), Type: to.Ptr("Microsoft.Storage/storageAccounts")}, nil)
	if err != nil || *avail.NameAvailable || *avail.Reason != armstorage.ReasonAlreadyExists {
		t.Fatalf("checkNameAvailability(taken): %+v %v", avail, err)
	}
	avail, err = e.accounts.CheckNameAvailability(ctx, armstorage.AccountCheckNameAvailabilityParameters{
		Name: to.Ptr("Bad_Name"), Type: to.Ptr("Microsoft.Storage/storageAccounts")}, nil)
	if err != nil || *avail.NameAvailable || *avail.Reason != armstorage.ReasonAccountNameInvalid {
		t.Fatalf("checkNameAvailability(invalid): %+v %v", avail, err)
	}
	upd, err := e.accounts.Update(ctx, e.rg, e.account, armstorage.AccountUpdateParameters{
		Properties: &armstorage.AccountPropertiesUpdateParameters{AllowSharedKeyAccess: to.Ptr(false)}}, nil)
	if err != nil || *upd.Properties.AllowSharedKeyAccess {
		t.Fatalf("update: %v", err)
	}
	// Keys no longer open the data plane.
	_, err = e.tables(t, e.key).CreateTable(ctx, "refused", nil)
	if code(err) != "KeyBasedAuthenticationNotPermitted" {
		t.Fatalf("shared key with allowSharedKeyAccess=false: %v", err)
	}
	pager := e.accounts.NewListByResourceGroupPager(e.rg, nil)
	page, err := pager.NextPage(ctx)
	if err != nil || len(page.Value) != 1 {
		t.Fatalf("list: %v", err)
	}
	if _, err := e.accounts.Delete(ctx, e.rg, e.account, nil); err != nil {
		t.Fatal(err)
	}
	avail, err = e.accounts.CheckNameAvailability(ctx, armstorage.AccountCheckNameAvailabilityParameters{
		Name: to.Ptr(e.account), Type: to.Ptr("Microsoft.Storage/storageAccounts")}, nil)
	if err != nil || !*avail.NameAvailable {
		t.Fatalf("name after delete: %+v %v", avail, err)
	}
}

func TestTablesWithAztablesSharedKey(t *testing.T) {
	e := newStorageEnv(t)
	ctx := context.Background()
	svc := e.tables(t, e.key)
	if _, err := svc.CreateTable(ctx, "apps", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTable(ctx, "apps", nil); code(err) != "TableAlreadyExists" {
		t.Fatalf("second create: %v", err)
	}
	tc := svc.NewClient("apps")
	for i, name := range []string{"alpha", "beta", "gamma"} {
		ent := aztables.EDMEntity{Entity: aztables.Entity{PartitionKey: "sub1", RowKey: name},
			Properties: map[string]any{"Count": int32(i), "Big": aztables.EDMInt64(1 << 40), "Ratio": 1.5, "Active": i != 1,
				"When": aztables.EDMDateTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), "Blob": aztables.EDMBinary([]byte{1, 2, 3}),
				"ID": aztables.EDMGUID("9f1a3c0e-0000-4000-8000-000000000001")}}
		b, _ := json.Marshal(ent)
		if _, err := tc.AddEntity(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal(aztables.Entity{PartitionKey: "sub1", RowKey: "alpha"})
	if _, err := tc.AddEntity(ctx, b, nil); code(err) != "EntityAlreadyExists" {
		t.Fatalf("duplicate insert: %v", err)
	}
	got, err := tc.GetEntity(ctx, "sub1", "alpha", nil)
	if err != nil {
		t.Fatal(err)
	}
	var edm aztables.EDMEntity
	if err := json.Unmarshal(got.Value, &edm); err != nil {
		t.Fatal(err)
	}
	if edm.Properties["Big"] != aztables.EDMInt64(1<<40) || string(edm.Properties["Blob"].(aztables.EDMBinary)) != "\x01\x02\x03" ||
		edm.Properties["ID"] != aztables.EDMGUID("9f1a3c0e-0000-4000-8000-000000000001") {
		t.Fatalf("typed properties = %#v", edm.Properties)
	}
	cases := []struct {
		filter string
		want   []string
	}{
		{"PartitionKey eq 'sub1' and Count ge 1", []string{"beta", "gamma"}},
		{"Active eq true", []string{"alpha", "gamma"}},
		{"Big eq 1099511627776L and RowKey lt 'beta'", []string{"alpha"}},
		{"When ge datetime'2026-01-01T00:00:00Z' and not (RowKey eq 'gamma')", []string{"alpha", "beta"}},
		{"Missing eq 1", nil},
	}
	for _, c := range cases {
		pager := tc.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: to.Ptr(c.filter), Select: to.Ptr("RowKey,Count")})
		var rows []string
		for pager.More() {
			p, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatalf("%s: %v", c.filter, err)
			}
			for _, v := range p.Entities {
				var m map[string]any
				_ = json.Unmarshal(v, &m)
				rows = append(rows, m["RowKey"].(string))
			}
		}
		if strings.Join(rows, ",") != strings.Join(c.want, ",") {
			t.Errorf("filter %q = %v, want %v", c.filter, rows, c.want)
		}
	}
	// Paging with $top and continuation headers.
	pager := tc.NewListEntitiesPager(&aztables.ListEntitiesOptions{Top: to.Ptr(int32(2))})
	pages, n := 0, 0
	for pager.More() {
		p, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		n += len(p.Entities)
	}
	if pages != 2 || n != 3 {
		t.Fatalf("pages=%d entities=%d", pages, n)
	}
	// ETags: a stale If-Match is refused.
	stale := got.ETag
	upd, _ := json.Marshal(map[string]any{"PartitionKey": "sub1", "RowKey": "alpha", "Count": 10})
	if _, err := tc.UpdateEntity(ctx, upd, &aztables.UpdateEntityOptions{IfMatch: &stale, UpdateMode: aztables.UpdateModeMerge}); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.UpdateEntity(ctx, upd, &aztables.UpdateEntityOptions{IfMatch: &stale, UpdateMode: aztables.UpdateModeReplace}); code(err) != "UpdateConditionNotSatisfied" {
		t.Fatalf("stale If-Match: %v", err)
	}
	// Transactions: atomic, one partition.
	mk := func(pk, rk string) []byte {
		b, _ := json.Marshal(aztables.Entity{PartitionKey: pk, RowKey: rk})
		return b
	}
	if _, err := tc.SubmitTransaction(ctx, []aztables.TransactionAction{
		{ActionType: aztables.TransactionTypeAdd, Entity: mk("sub1", "delta")},
		{ActionType: aztables.TransactionTypeAdd, Entity: mk("sub1", "alpha")}, // exists: the batch fails
	}, nil); err == nil {
		t.Fatal("a batch with a failing insert succeeded")
	}
	if _, err := tc.GetEntity(ctx, "sub1", "delta", nil); code(err) != "ResourceNotFound" {
		t.Fatalf("the failed batch left its first insert: %v", err)
	}
	if _, err := tc.SubmitTransaction(ctx, []aztables.TransactionAction{
		{ActionType: aztables.TransactionTypeAdd, Entity: mk("sub1", "delta")},
		{ActionType: aztables.TransactionTypeDelete, Entity: mk("sub1", "beta")},
		{ActionType: aztables.TransactionTypeInsertMerge, Entity: mk("sub1", "gamma")},
	}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.SubmitTransaction(ctx, []aztables.TransactionAction{
		{ActionType: aztables.TransactionTypeAdd, Entity: mk("sub1", "x1")},
		{ActionType: aztables.TransactionTypeAdd, Entity: mk("sub2", "x2")},
	}, nil); !strings.Contains(code(err), "CommandsInBatchActOnDifferentPartitions") {
		t.Fatalf("cross-partition batch: %v", err)
	}
	if _, err := tc.DeleteEntity(ctx, "sub1", "delta", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DeleteTable(ctx, "apps", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.GetEntity(ctx, "sub1", "alpha", nil); code(err) != "TableNotFound" {
		t.Fatalf("after delete: %v", err)
	}
}

func TestTableSASIsCheckedAsAzureChecksIt(t *testing.T) {
	e := newStorageEnv(t)
	ctx := context.Background()
	svc := e.tables(t, e.key)
	for _, name := range []string{"catalog", "other"} {
		if _, err := svc.CreateTable(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
	}
	tc := svc.NewClient("catalog")
	for _, k := range [][2]string{{"envs", "dev"}, {"envs", "prod"}, {"regions", "westeurope"}} {
		b, _ := json.Marshal(aztables.Entity{PartitionKey: k[0], RowKey: k[1]})
		if _, err := tc.AddEntity(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
	}
	sas := func(req armstorage.ServiceSasParameters) string {
		t.Helper()
		res, err := e.accounts.ListServiceSAS(ctx, e.rg, e.account, req, nil)
		if err != nil {
			t.Fatal(err)
		}
		return *res.ServiceSasToken
	}
	client := func(table, token string) *aztables.Client {
		c, err := aztables.NewClientWithNoCredential(e.tableURL+table+"?"+token, &aztables.ClientOptions{ClientOptions: sdkOptions(e.s)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	count := func(c *aztables.Client) (int, error) {
		p, err := c.NewListEntitiesPager(nil).NextPage(ctx)
		return len(p.Entities), err
	}
	future := time.Now().Add(time.Hour)
	readOnly := sas(armstorage.ServiceSasParameters{CanonicalizedResource: to.Ptr("/table/" + e.account + "/catalog"),
		Permissions: to.Ptr(armstorage.PermissionsR), SharedAccessExpiryTime: &future})
	if n, err := count(client("catalog", readOnly)); err != nil || n != 3 {
		t.Fatalf("read-only SAS read: %d %v", n, err)
	}
	b, _ := json.Marshal(aztables.Entity{PartitionKey: "envs", RowKey: "test"})
	if _, err := client("catalog", readOnly).AddEntity(ctx, b, nil); code(err) != "AuthorizationPermissionMismatch" {
		t.Fatalf("insert with a read-only SAS: %v", err)
	}
	ranged := sas(armstorage.ServiceSasParameters{CanonicalizedResource: to.Ptr("/table/" + e.account + "/catalog"),
		Permissions: to.Ptr(armstorage.PermissionsR), SharedAccessExpiryTime: &future,
		PartitionKeyStart: to.Ptr("envs"), PartitionKeyEnd: to.Ptr("envs")})
	if n, err := count(client("catalog", ranged)); err != nil || n != 2 {
		t.Fatalf("ranged SAS query: %d %v", n, err)
	}
	past := time.Now().Add(-time.Minute)
	expired := sas(armstorage.ServiceSasParameters{CanonicalizedResource: to.Ptr("/table/" + e.account + "/catalog"),
		Permissions: to.Ptr(armstorage.PermissionsR), SharedAccessExpiryTime: &past})
	tampered := strings.Replace(readOnly, "sp=r", "sp=raud", 1)
	refusals := []struct {
		name  string
		run   func() error
		codes string
	}{
		{"past expiry", func() error { _, err := count(client("catalog", expired)); return err }, "AuthenticationFailed"},
		{"another table", func() error { _, err := count(client("other", readOnly)); return err }, "AuthorizationFailure"},
		{"outside the key range", func() error {
			_, err := client("catalog", ranged).GetEntity(ctx, "regions", "westeurope", nil)
			return err
		}, "AuthorizationFailure"},
		{"tampered signature", func() error { _, err := count(client("catalog", tampered)); return err }, "AuthenticationFailed"},
	}
	for _, r := range refusals {
		if err := r.run(); code(err) != r.codes {
			t.Errorf("%s: %v, want %s", r.name, err, r.codes)
		}
	}
	// Account SAS.
	acct, err := e.accounts.ListAccountSAS(ctx, e.rg, e.account, armstorage.AccountSasParameters{
		Services: to.Ptr(armstorage.ServicesT), ResourceTypes: to.Ptr(armstorage.SignedResourceTypesO),
		Permissions: to.Ptr(armstorage.PermissionsR), SharedAccessExpiryTime: &future}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := count(client("other", *acct.AccountSasToken)); err != nil || n != 0 {
		t.Fatalf("account SAS read: %d %v", n, err)
	}
	// Regenerating key1 invalidates what it signed.
	if _, err := e.accounts.RegenerateKey(ctx, e.rg, e.account, armstorage.AccountRegenerateKeyParameters{KeyName: to.Ptr("key1")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := count(client("catalog", readOnly)); code(err) != "AuthenticationFailed" {
		t.Fatalf("SAS after its key was regenerated: %v", err)
	}
	if _, err := e.tables(t, e.key).CreateTable(ctx, "stale", nil); code(err) != "AuthenticationFailed" {
		t.Fatalf("old key after regeneration: %v", err)
	}
}

func TestTablesWithEntraTokensAndRoles(t *testing.T) {
	e := newStorageEnv(t)
	ctx := context.Background()
	opts := sdkOptions(e.s)
	// A custom cloud names the Tables service (aztables requires it; for
	// storage endpoints the token audience is https://storage.azure.com).
	topts := opts
	topts.Cloud.Services = map[azcloud.ServiceName]azcloud.ServiceConfiguration{aztables.ServiceName: {Audience: "https://storage.azure.com"}}
	tc, err := aztables.NewClient(e.tableURL+"audit", adminCredential(t, e.dir, opts), &aztables.ClientOptions{ClientOptions: topts})
	if err != nil {
		t.Fatal(err)
	}
	// The administrator owns the subscription but holds no data role.
	if _, err := e.tables(t, e.key).CreateTable(ctx, "audit", nil); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(aztables.Entity{PartitionKey: "p", RowKey: "r"})
	if _, err := tc.AddEntity(ctx, b, nil); code(err) != "AuthorizationPermissionMismatch" {
		t.Fatalf("without a data role: %v", err)
	}
	for _, role := range []struct {
		id      string
		canAdd  bool
		comment string
	}{{"76199698-9eea-4c19-bc75-cec21354c6b6", false, "Storage Table Data Reader"}, {"0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", true, "Storage Table Data Contributor"}} {
		scope := "/subscriptions/" + e.s.Bootstrap.SubscriptionID + "/resourceGroups/" + e.rg + "/providers/Microsoft.Storage/storageAccounts/" + e.account
		doc := rbac.RoleAssignmentDocument(scope, role.id, e.s.Bootstrap.ObjectID, rbac.PrincipalServicePrincipal)
		if _, _, err := e.s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: doc["id"].(string), Type: cloud.TypeRoleAssignment, Doc: doc}); err != nil {
			t.Fatal(err)
		}
		_, err := tc.AddEntity(ctx, b, nil)
		if role.canAdd != (err == nil) {
			t.Fatalf("%s: add = %v", role.comment, err)
		}
		if !role.canAdd && code(err) != "AuthorizationPermissionMismatch" {
			t.Fatalf("%s: %v", role.comment, err)
		}
		if _, err := tc.NewListEntitiesPager(nil).NextPage(ctx); err != nil {
			t.Fatalf("%s: read: %v", role.comment, err)
		}
	}
}

func TestTableServiceRefusesUnauthenticatedRequests(t *testing.T) {
	e := newStorageEnv(t)
	c := &http.Client{Transport: sdkOptions(e.s).Transport.(*http.Client).Transport}
	resp, err := c.Get(e.tableURL + "Tables")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("x-ms-error-code") != "NoAuthenticationInformation" ||
		!strings.Contains(resp.Header.Get("WWW-Authenticate"), "resource_id=https://storage.azure.com") {
		t.Fatalf("anonymous: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestStorageKeysAreSealedAtRest scans every file of the data directory,
// after a stop, for both account keys in base64 and raw form, with the
// table's account name as the control that the scan reads the store.
func TestStorageKeysAreSealedAtRest(t *testing.T) {
	e := newStorageEnv(t)
	keys, err := e.accounts.ListKeys(context.Background(), e.rg, e.account, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	needles := map[string][]byte{}
	for _, k := range keys.Keys {
		needles[*k.KeyName+" (base64)"] = []byte(*k.Value)[:40]
		needles[*k.KeyName+" (raw)"] = mustDecode(t, *k.Value)[8:40]
	}
	for what, file := range scanFiles(t, e.dir, []byte(`"resourceId":"/subscriptions/`), needles) {
		t.Errorf("%s found in %s", what, file)
	}
}

func TestStorageAccountWritesAreValidated(t *testing.T) {
	e := newStorageEnv(t)
	ctx := context.Background()
	ok := armstorage.AccountCreateParameters{Kind: to.Ptr(armstorage.KindStorageV2), Location: to.Ptr("westeurope"),
		SKU: &armstorage.SKU{Name: to.Ptr(armstorage.SKUNameStandardLRS)}}
	with := func(f func(p *armstorage.AccountCreateParameters)) armstorage.AccountCreateParameters {
		p := ok
		f(&p)
		return p
	}
	other := "/subscriptions/" + e.s.Bootstrap.SubscriptionID + "/resourceGroups/other"
	if _, _, err := e.s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: other, Type: cloud.TypeResourceGroup,
		Doc: map[string]any{"id": other, "name": "other", "type": cloud.TypeResourceGroup, "location": "westeurope", "properties": map[string]any{}}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, group, account string
		params               armstorage.AccountCreateParameters
		code                 string
	}{
		{"invalid name", e.rg, "Bad_Name", ok, "AccountNameInvalid"},
		{"unknown SKU", e.rg, "skutest", with(func(p *armstorage.AccountCreateParameters) {
			p.SKU = &armstorage.SKU{Name: to.Ptr(armstorage.SKUName("Basic"))}
		}), "InvalidValuesForRequestParameters"},
		{"unknown kind", e.rg, "kindtest", with(func(p *armstorage.AccountCreateParameters) { p.Kind = to.Ptr(armstorage.Kind("Nope")) }), "InvalidValuesForRequestParameters"},
		{"unknown TLS version", e.rg, "tlstest", with(func(p *armstorage.AccountCreateParameters) {
			p.Properties = &armstorage.AccountPropertiesCreateParameters{MinimumTLSVersion: to.Ptr(armstorage.MinimumTLSVersion("TLS9"))}
		}), "InvalidValuesForRequestParameters"},
		{"name taken in another group", "other", e.account, ok, "StorageAccountAlreadyTaken"},
	}
	for _, c := range cases {
		_, err := e.accounts.BeginCreate(ctx, c.group, c.account, c.params, nil)
		if code(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
}
