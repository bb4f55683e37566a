package cloud_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/server"
	"github.com/steward-gov/steward/internal/store/storetest"
)

const apiVersion = "2021-04-01"

func TestSDKResourceGroupsLifecycle(t *testing.T) { sdkResourceGroupsLifecycle(t, newEnv(t)) }

func sdkResourceGroupsLifecycle(t *testing.T, e *env) {
	ctx := context.Background()
	rgs, err := armresources.NewResourceGroupsClient(e.sub, e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	created, err := rgs.CreateOrUpdate(ctx, "rg-one", armresources.ResourceGroup{Location: to.Ptr("West Europe"),
		Tags: map[string]*string{"env": to.Ptr("prod")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *created.Name != "rg-one" || *created.Location != "westeurope" || *created.Properties.ProvisioningState != "Succeeded" ||
		*created.ID != "/subscriptions/"+e.sub+"/resourceGroups/rg-one" || *created.Type != "Microsoft.Resources/resourceGroups" {
		t.Fatalf("created: %+v", created.ResourceGroup)
	}
	if _, err := rgs.CreateOrUpdate(ctx, "rg-two", armresources.ResourceGroup{Location: to.Ptr("westeurope"),
		Tags: map[string]*string{"env": to.Ptr("dev")}}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := rgs.Get(ctx, "RG-ONE", nil)
	if err != nil || *got.Name != "rg-one" || *got.Tags["env"] != "prod" {
		t.Fatalf("get: %+v %v", got, err)
	}
	if ex, err := rgs.CheckExistence(ctx, "rg-one", nil); err != nil || !ex.Success {
		t.Fatalf("exists: %+v %v", ex, err)
	}
	if ex, err := rgs.CheckExistence(ctx, "nope", nil); err != nil || ex.Success {
		t.Fatalf("missing exists: %+v %v", ex, err)
	}
	names := func(filter string) []string {
		var out []string
		opt := &armresources.ResourceGroupsClientListOptions{}
		if filter != "" {
			opt.Filter = to.Ptr(filter)
		}
		pager := rgs.NewListPager(opt)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range page.Value {
				out = append(out, *g.Name)
			}
		}
		sort.Strings(out)
		return out
	}
	if got := fmt.Sprint(names("")); got != "[rg-one rg-two]" {
		t.Errorf("list = %s", got)
	}
	if got := fmt.Sprint(names("tagName eq 'env' and tagValue eq 'dev'")); got != "[rg-two]" {
		t.Errorf("filtered list = %s", got)
	}
	upd, err := rgs.Update(ctx, "rg-two", armresources.ResourceGroupPatchable{Tags: map[string]*string{"owner": to.Ptr("ops")}}, nil)
	if err != nil || len(upd.Tags) != 1 || *upd.Tags["owner"] != "ops" {
		t.Fatalf("update: %+v %v", upd, err)
	}
	_, err = rgs.CreateOrUpdate(ctx, "rg-two", armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil)
	wantCode(t, err, http.StatusConflict, "InvalidResourceGroupLocation")

	poller, err := rgs.BeginDelete(ctx, "rg-one", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := poller.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}
	_, err = rgs.Get(ctx, "rg-one", nil)
	wantCode(t, err, http.StatusNotFound, "ResourceGroupNotFound")
	_, err = rgs.BeginDelete(ctx, "rg-one", nil)
	wantCode(t, err, http.StatusNotFound, "ResourceGroupNotFound")
}

func TestSDKGenericResources(t *testing.T) { sdkGenericResources(t, newEnv(t)) }

func sdkGenericResources(t *testing.T, e *env) {
	ctx := context.Background()
	rgs, _ := armresources.NewResourceGroupsClient(e.sub, e.cred, e.opts)
	res, err := armresources.NewClient(e.sub, e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rgs.CreateOrUpdate(ctx, "apps", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	rgID := "/subscriptions/" + e.sub + "/resourceGroups/apps"
	const n = 7
	for i := range n {
		id := fmt.Sprintf("%s/providers/Microsoft.Web/sites/sa%d", rgID, i)
		p, err := res.BeginCreateOrUpdateByID(ctx, id, apiVersion, armresources.GenericResource{
			Location: to.Ptr("westeurope"), Kind: to.Ptr("app"),
			SKU:        &armresources.SKU{Name: to.Ptr("Standard_LRS")},
			Tags:       map[string]*string{"idx": to.Ptr(fmt.Sprint(i % 2))},
			Properties: map[string]any{"supportsHttpsTrafficOnly": true}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.PollUntilDone(ctx, nil)
		if err != nil || *r.ID != id || *r.Type != "Microsoft.Web/sites" || *r.Kind != "app" {
			t.Fatalf("create %d: %+v %v", i, r, err)
		}
	}
	child := rgID + "/providers/Microsoft.Web/sites/sa0/slots/staging"
	p, err := res.BeginCreateOrUpdateByID(ctx, child, apiVersion, armresources.GenericResource{Properties: map[string]any{"x": 1.0}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got, err := res.GetByID(ctx, rgID+"/providers/Microsoft.Web/sites/SA3", apiVersion, nil)
	if err != nil || *got.Name != "sa3" || got.Properties.(map[string]any)["supportsHttpsTrafficOnly"] != true {
		t.Fatalf("get: %+v %v", got, err)
	}
	count, pages := 0, 0
	pager := res.NewListByResourceGroupPager("apps", &armresources.ClientListByResourceGroupOptions{Top: to.Ptr[int32](3)})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		count += len(page.Value)
	}
	if count != n || pages != 3 {
		t.Errorf("listed %d resources in %d pages, want %d in 3 (the child is not top-level)", count, pages, n)
	}
	filtered := 0
	fp := res.NewListPager(&armresources.ClientListOptions{Filter: to.Ptr("tagName eq 'idx' and tagValue eq '1'")})
	for fp.More() {
		page, err := fp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		filtered += len(page.Value)
	}
	if filtered != n/2 {
		t.Errorf("tag filter listed %d, want %d", filtered, n/2)
	}
	dp, err := res.BeginDeleteByID(ctx, rgID+"/providers/Microsoft.Web/sites/sa0", apiVersion, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dp.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}
	_, err = res.GetByID(ctx, child, apiVersion, nil)
	wantCode(t, err, http.StatusNotFound, "ResourceNotFound")
	if ex, err := res.CheckExistenceByID(ctx, rgID+"/providers/Microsoft.Web/sites/sa1", apiVersion, nil); err != nil || !ex.Success {
		t.Fatalf("exists: %v %v", ex, err)
	}
	rp, err := rgs.BeginDelete(ctx, "apps", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rp.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}
	_, err = res.GetByID(ctx, rgID+"/providers/Microsoft.Web/sites/sa1", apiVersion, nil)
	wantCode(t, err, http.StatusNotFound, "ResourceGroupNotFound")
}

func TestSDKTags(t *testing.T) { sdkTags(t, newEnv(t)) }

func sdkTags(t *testing.T, e *env) {
	ctx := context.Background()
	rgs, _ := armresources.NewResourceGroupsClient(e.sub, e.cred, e.opts)
	tags, err := armresources.NewTagsClient(e.sub, e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rgs.CreateOrUpdate(ctx, "tagged", armresources.ResourceGroup{Location: to.Ptr("westeurope"),
		Tags: map[string]*string{"a": to.Ptr("1")}}, nil); err != nil {
		t.Fatal(err)
	}
	scope := "/subscriptions/" + e.sub + "/resourceGroups/tagged"
	if _, err := tags.UpdateAtScope(ctx, scope, armresources.TagsPatchResource{Operation: to.Ptr(armresources.TagsPatchOperationMerge),
		Properties: &armresources.Tags{Tags: map[string]*string{"b": to.Ptr("2")}}}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := tags.GetAtScope(ctx, scope, nil)
	if err != nil || len(got.Properties.Tags) != 2 || *got.Properties.Tags["b"] != "2" {
		t.Fatalf("after merge: %+v %v", got, err)
	}
	if _, err := tags.CreateOrUpdateAtScope(ctx, scope, armresources.TagsResource{Properties: &armresources.Tags{
		Tags: map[string]*string{"c": to.Ptr("3")}}}, nil); err != nil {
		t.Fatal(err)
	}
	rg, _ := rgs.Get(ctx, "tagged", nil)
	if len(rg.Tags) != 1 || *rg.Tags["c"] != "3" {
		t.Errorf("after replace the group has %v", rg.Tags)
	}
	if _, err := tags.DeleteAtScope(ctx, scope, nil); err != nil {
		t.Fatal(err)
	}
	rg, _ = rgs.Get(ctx, "tagged", nil)
	if len(rg.Tags) != 0 {
		t.Errorf("after delete the group has %v", rg.Tags)
	}
}

// TestSDKOnPostgres runs the SDK scenarios on a PostgreSQL store.
func TestSDKOnPostgres(t *testing.T) {
	for name, f := range map[string]func(*testing.T, *env){
		"resource groups": sdkResourceGroupsLifecycle, "generic resources": sdkGenericResources, "tags": sdkTags,
	} {
		t.Run(name, func(t *testing.T) {
			cfg := server.DefaultConfig()
			cfg.DataDir, cfg.Listen, cfg.StoreURL = t.TempDir(), "127.0.0.1:0", storetest.PostgresSchema(t)
			f(t, newEnvConfig(t, cfg))
		})
	}
}

func TestSDKProvidersAreRegistered(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pc, err := armresources.NewProvidersClient(e.sub, e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := pc.Register(ctx, "Microsoft.Web", nil)
	if err != nil || *reg.RegistrationState != "Registered" || *reg.Namespace != "Microsoft.Web" {
		t.Fatalf("register: %+v %v", reg, err)
	}
	got, err := pc.Get(ctx, "Microsoft.Storage", nil)
	if err != nil || *got.RegistrationState != "Registered" {
		t.Fatalf("get: %+v %v", got, err)
	}
}

// wantCode checks that err is an Azure response error with the status and
// ARM code.
func wantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want %d %s, got %v", status, code, err)
	}
	if re.StatusCode != status || re.ErrorCode != code {
		t.Fatalf("want %d %s, got %d %s", status, code, re.StatusCode, re.ErrorCode)
	}
}

// TestSDKPagesThroughLargeLists lists 1,050 resources with the default page
// size: the pager follows every nextLink and sees each resource once.
func TestSDKPagesThroughLargeLists(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rg := "/subscriptions/" + e.sub + "/resourceGroups/big"
	if r, b := e.do(t, "PUT", rg+"?api-version=2021-04-01", e.adminToken(t), []byte(`{"location":"westeurope"}`)); r.StatusCode != 201 {
		t.Fatalf("%d %s", r.StatusCode, b)
	}
	const n = 1050
	for i := range n {
		id := fmt.Sprintf("%s/providers/Microsoft.Web/sites/sa%04d", rg, i)
		doc := map[string]any{"id": id, "name": fmt.Sprintf("sa%04d", i), "type": "Microsoft.Web/sites", "location": "westeurope"}
		if _, _, err := e.s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: id, Type: "Microsoft.Web/sites", Doc: doc}); err != nil {
			t.Fatal(err)
		}
	}
	res, _ := armresources.NewClient(e.sub, e.cred, e.opts)
	seen, pages := map[string]bool{}, 0
	for pager := res.NewListByResourceGroupPager("big", nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range page.Value {
			if seen[*r.Name] {
				t.Fatalf("%s listed twice", *r.Name)
			}
			seen[*r.Name] = true
		}
	}
	if len(seen) != n || pages != (n+cloud.DefaultPageSize-1)/cloud.DefaultPageSize {
		t.Errorf("listed %d resources in %d pages, want %d in %d", len(seen), pages, n, (n+cloud.DefaultPageSize-1)/cloud.DefaultPageSize)
	}
}
