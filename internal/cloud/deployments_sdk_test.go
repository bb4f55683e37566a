package cloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/server"
)

func readTemplate(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../template/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

type deployEnv struct {
	*env
	deps *armresources.DeploymentsClient
	rgs  *armresources.ResourceGroupsClient
	res  *armresources.Client
}

func newDeployEnv(t *testing.T, setup ...server.CloudSetup) *deployEnv {
	e := newEnv(t, append([]server.CloudSetup{unthrottled}, setup...)...)
	deps, err := armresources.NewDeploymentsClient(e.sub, e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	rgs, _ := armresources.NewResourceGroupsClient(e.sub, e.cred, e.opts)
	res, _ := armresources.NewClient(e.sub, e.cred, e.opts)
	if _, err := rgs.CreateOrUpdate(context.Background(), "rg1", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	return &deployEnv{env: e, deps: deps, rgs: rgs, res: res}
}

func (e *deployEnv) deploy(t *testing.T, name string, tmpl map[string]any, params map[string]any, mode armresources.DeploymentMode) (armresources.DeploymentsClientCreateOrUpdateResponse, error) {
	t.Helper()
	ctx := context.Background()
	poller, err := e.deps.BeginCreateOrUpdate(ctx, "rg1", name, armresources.Deployment{Properties: &armresources.DeploymentProperties{
		Template: tmpl, Parameters: params, Mode: to.Ptr(mode)}}, nil)
	if err != nil {
		return armresources.DeploymentsClientCreateOrUpdateResponse{}, err
	}
	return poller.PollUntilDone(ctx, nil)
}

// readVersion is an api-version to read the resource id with, valid for
// its type as a program written for Azure picks one: the newest published
// version of a type Steward checks versions of, else 2022-09-01.
func readVersion(t *testing.T, id string) string {
	t.Helper()
	rid, err := arm.ParseResourceID(id)
	if err != nil {
		t.Fatalf("output resource %s: %v", id, err)
	}
	if vs := arm.TypeAPIVersions(rid.ResourceType()); len(vs) > 0 {
		return vs[len(vs)-1]
	}
	return "2022-09-01"
}

// TestSDKDeploysQuickstarts validates, what-ifs and deploys each
// quickstart-style template with armresources.DeploymentsClient, then reads
// the deployment, its operations and the resources it wrote.
func TestSDKDeploysQuickstarts(t *testing.T) {
	e := newDeployEnv(t, standIns("Microsoft.Storage/storageAccounts"))
	ctx := context.Background()
	// The diagnostic settings the templates write send to this workspace.
	ws := "/subscriptions/" + e.sub + "/resourceGroups/rg1/providers/Microsoft.OperationalInsights/workspaces/logs1"
	if code, msg := e.putJSON(t, e.adminToken(t), ws, readVersion(t, ws), map[string]any{"location": "westeurope"}); code >= 300 {
		t.Fatalf("workspace: %d %s", code, msg)
	}
	cases := []struct {
		file    string
		params  map[string]any
		created int
		whatIf  int // nested deployments are not in what-if's changes
	}{
		{"storage.json", nil, 1, 1},
		{"vnet-nsg.json", nil, 2, 2},
		{"vm.json", map[string]any{"adminPassword": map[string]any{"value": "S3cret!pass-word"}}, 3, 3},
		{"copy.json", map[string]any{"count": map[string]any{"value": 2}}, 3, 3},
		{"nested.json", nil, 4, 2},
		{"bicep.json", nil, 3, 3},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			tmpl := readTemplate(t, c.file)
			name := strings.TrimSuffix(c.file, ".json")
			props := &armresources.DeploymentProperties{Template: tmpl, Parameters: c.params, Mode: to.Ptr(armresources.DeploymentModeIncremental)}
			vp, err := e.deps.BeginValidate(ctx, "rg1", name, armresources.Deployment{Properties: props}, nil)
			if err != nil {
				t.Fatal(err)
			}
			v, err := vp.PollUntilDone(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if v.Error != nil || *v.Properties.ProvisioningState != "Succeeded" || len(v.Properties.ValidatedResources) != c.created {
				t.Fatalf("validate: %+v", v.Properties)
			}
			wp, err := e.deps.BeginWhatIf(ctx, "rg1", name, armresources.DeploymentWhatIf{Properties: &armresources.DeploymentWhatIfProperties{
				Template: tmpl, Parameters: c.params, Mode: to.Ptr(armresources.DeploymentModeIncremental)}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			w, err := wp.PollUntilDone(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			creates := 0
			for _, ch := range w.Properties.Changes {
				if *ch.ChangeType == armresources.ChangeTypeCreate {
					creates++
				}
			}
			if creates != c.whatIf {
				t.Errorf("what-if creates %d, want %d", creates, c.whatIf)
			}
			r, err := e.deploy(t, name, tmpl, c.params, armresources.DeploymentModeIncremental)
			if err != nil {
				t.Fatal(err)
			}
			if *r.Properties.ProvisioningState != armresources.ProvisioningStateSucceeded || len(r.Properties.OutputResources) != c.created {
				t.Fatalf("deployment: %+v", r.Properties)
			}
			for _, o := range r.Properties.OutputResources {
				if _, err := e.res.GetByID(ctx, *o.ID, readVersion(t, *o.ID), nil); err != nil {
					t.Errorf("resource %s: %v", *o.ID, err)
				}
			}
			opsClient, _ := armresources.NewDeploymentOperationsClient(e.sub, e.cred, e.opts)
			ops := opsClient.NewListPager("rg1", name, nil)
			n := 0
			for ops.More() {
				p, err := ops.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, op := range p.Value {
					if *op.Properties.ProvisioningState != "Succeeded" {
						t.Errorf("operation %+v", op.Properties)
					}
					n++
				}
			}
			if n != c.created {
				t.Errorf("operations = %d, want %d", n, c.created)
			}
			// A second what-if sees no change.
			wp, _ = e.deps.BeginWhatIf(ctx, "rg1", name, armresources.DeploymentWhatIf{Properties: &armresources.DeploymentWhatIfProperties{
				Template: tmpl, Parameters: c.params, Mode: to.Ptr(armresources.DeploymentModeIncremental)}}, nil)
			w, err = wp.PollUntilDone(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range w.Properties.Changes {
				if id := strings.ToLower(*ch.ResourceID); *ch.ChangeType != armresources.ChangeTypeNoChange && *ch.ChangeType != armresources.ChangeTypeIgnore {
					t.Errorf("after deploying, %s is %s (delta %v)", id, *ch.ChangeType, len(ch.Delta))
				}
			}
		})
	}
	got, err := e.deps.Get(ctx, "rg1", "storage", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Properties.Outputs == nil {
		t.Error("no outputs")
	}
	exp, err := e.deps.ExportTemplate(ctx, "rg1", "storage", nil)
	if err != nil || exp.Template == nil {
		t.Fatalf("export: %v %v", exp, err)
	}
	pager := e.deps.NewListByResourceGroupPager("rg1", nil)
	count := 0
	for pager.More() {
		p, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		count += len(p.Value)
	}
	// Nested deployments are in the group's history too.
	if count != 8 {
		t.Errorf("history has %d deployments, want 8", count)
	}
}

// TestSDKDeploymentFailuresLeaveWhatAzureLeaves: a resource refused by
// policy fails preflight with nothing written; a runtime failure leaves
// the resources written before it and reports DeploymentFailed.
func TestSDKDeploymentFailures(t *testing.T) {
	deny := func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
		c.SetPolicyHook(cloud.PolicyHookFunc(func(_ context.Context, req *cloud.PolicyRequest) error {
			if strings.HasSuffix(req.ID, "/denied") {
				return &arm.Error{Status: http.StatusForbidden, Code: "RequestDisallowedByPolicy", Message: "Resource 'denied' was disallowed by policy."}
			}
			return nil
		}))
		return nil
	}
	e := newDeployEnv(t, deny)
	ctx := context.Background()
	nsg := func(name string, extra map[string]any) map[string]any {
		r := map[string]any{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": name, "location": "westeurope", "properties": map[string]any{}}
		for k, v := range extra {
			r[k] = v
		}
		return r
	}
	tmpl := func(rs ...any) map[string]any {
		return map[string]any{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": rs}
	}
	_, err := e.deploy(t, "policy", tmpl(nsg("ok1", nil), nsg("denied", nil)), nil, armresources.DeploymentModeIncremental)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest || !strings.Contains(err.Error(), "RequestDisallowedByPolicy") {
		t.Fatalf("deploy with a denied resource: %v", err)
	}
	if _, err := e.res.GetByID(ctx, "/subscriptions/"+e.sub+"/resourceGroups/rg1/providers/Microsoft.Network/networkSecurityGroups/ok1", "2022-07-01", nil); err == nil {
		t.Error("preflight failure wrote a resource")
	}
	// ok2 is written, then 'after' reads a resource that does not exist.
	_, err = e.deploy(t, "runtime", tmpl(nsg("ok2", nil),
		nsg("after", map[string]any{"dependsOn": []any{"ok2"}, "tags": map[string]any{"x": "[reference('/subscriptions/" + e.sub + "/resourceGroups/rg1/providers/Microsoft.Network/networkSecurityGroups/missing').foo]"}})), nil, armresources.DeploymentModeIncremental)
	if err == nil || !strings.Contains(err.Error(), "DeploymentFailed") {
		t.Fatalf("runtime failure: %v", err)
	}
	if _, err := e.res.GetByID(ctx, "/subscriptions/"+e.sub+"/resourceGroups/rg1/providers/Microsoft.Network/networkSecurityGroups/ok2", "2022-07-01", nil); err != nil {
		t.Errorf("the resource written before the failure is gone: %v", err)
	}
	got, err := e.deps.Get(ctx, "rg1", "runtime", nil)
	if err != nil || *got.Properties.ProvisioningState != armresources.ProvisioningStateFailed || *got.Properties.Error.Code != "DeploymentFailed" {
		t.Fatalf("failed deployment: %+v %v", got.Properties, err)
	}
	events, _, err := e.s.Cloud.ActivityLog(ctx, e.sub, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range events {
		if ev.OperationName.Value == "Microsoft.Resources/deployments/write" && strings.HasSuffix(ev.ResourceID, "/runtime") && ev.Status.Value == "Failed" {
			found = true
		}
	}
	if !found {
		t.Error("the activity log has no failed Microsoft.Resources/deployments/write for the deployment")
	}
	if _, err := e.deps.Cancel(ctx, "rg1", "runtime", nil); err == nil {
		t.Error("cancel of a finished deployment succeeded")
	}
}

// TestSDKCompleteModeDeletesWhatTheTemplateDropped deploys two NSGs, then
// one in Complete mode: exactly the other one is deleted.
func TestSDKCompleteMode(t *testing.T) {
	e := newDeployEnv(t)
	ctx := context.Background()
	nsg := func(name string, extra ...string) map[string]any {
		r := map[string]any{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": name, "location": "westeurope", "properties": map[string]any{}}
		if len(extra) == 2 {
			r[extra[0]] = extra[1]
		}
		return r
	}
	// A child resource of a kept resource, written in its own right.
	rule := map[string]any{"type": "Microsoft.Network/networkSecurityGroups/securityRules", "apiVersion": "2022-07-01", "name": "a/r1",
		"properties": map[string]any{"priority": 100}, "dependsOn": []any{"a"}}
	tmpl := func(rs ...any) map[string]any {
		return map[string]any{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": rs}
	}
	if _, err := e.deploy(t, "all", tmpl(nsg("a"), nsg("b"), nsg("c"), rule), nil, armresources.DeploymentModeIncremental); err != nil {
		t.Fatal(err)
	}
	// The Complete deployment names a, and c under a false condition.
	complete := tmpl(nsg("a"), nsg("c", "condition", "[equals(1, 2)]"))
	wp, err := e.deps.BeginWhatIf(ctx, "rg1", "one", armresources.DeploymentWhatIf{Properties: &armresources.DeploymentWhatIfProperties{
		Template: complete, Mode: to.Ptr(armresources.DeploymentModeComplete), WhatIfSettings: &armresources.DeploymentWhatIfSettings{ResultFormat: to.Ptr(armresources.WhatIfResultFormatResourceIDOnly)}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wp.PollUntilDone(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]armresources.ChangeType{}
	for _, ch := range w.Properties.Changes {
		kinds[(*ch.ResourceID)[strings.LastIndex(*ch.ResourceID, "/")+1:]] = *ch.ChangeType
		if ch.After != nil || ch.Before != nil {
			t.Error("ResourceIdOnly returned payloads")
		}
	}
	if kinds["a"] != armresources.ChangeTypeNoChange || kinds["b"] != armresources.ChangeTypeDelete || kinds["c"] != armresources.ChangeTypeDelete {
		t.Errorf("what-if complete: %v", kinds)
	}
	if _, err := e.deploy(t, "one", complete, nil, armresources.DeploymentModeComplete); err != nil {
		t.Fatal(err)
	}
	base := "/subscriptions/" + e.sub + "/resourceGroups/rg1/providers/Microsoft.Network/networkSecurityGroups/"
	for _, keep := range []string{"a", "a/securityRules/r1"} {
		if _, err := e.res.GetByID(ctx, base+keep, "2022-07-01", nil); err != nil {
			t.Errorf("%s: %v", keep, err)
		}
	}
	for _, gone := range []string{"b", "c"} {
		if _, err := e.res.GetByID(ctx, base+gone, "2022-07-01", nil); err == nil {
			t.Errorf("%s survived a Complete deployment that does not deploy it", gone)
		}
	}
	if _, err := e.rgs.Get(ctx, "rg1", nil); err != nil {
		t.Errorf("the group itself: %v", err)
	}
}

// standIns declares resource types implemented for a test of the template
// engine, with put hooks that accept every document: the engine must
// deploy whatever types the Cloud implements, and these quickstarts use
// types whose own behaviour (storage accounts, diagnostic settings) is
// not this test's subject. Without them the deployment fails with
// ResourceTypeNotImplemented (see TestDeploymentOfAnUnimplementedTypeFails).
func standIns(types ...string) server.CloudSetup {
	return func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
		for _, typ := range types {
			c.OnPut(typ, func(context.Context, string, map[string]any, map[string]any) error { return nil })
		}
		return nil
	}
}

func TestDeploymentOfAnUnimplementedTypeFails(t *testing.T) {
	e := newDeployEnv(t)
	r, err := e.deploy(t, "storage", readTemplate(t, "storage.json"), nil, armresources.DeploymentModeIncremental)
	if err == nil && r.Properties != nil && *r.Properties.ProvisioningState == armresources.ProvisioningStateSucceeded {
		t.Fatal("a deployment of a storage account, which Steward does not implement, succeeded")
	}
	if err == nil || !strings.Contains(err.Error(), cloud.CodeResourceTypeNotImplemented) {
		t.Errorf("want the deployment to fail naming %s, got %v", cloud.CodeResourceTypeNotImplemented, err)
	}
}

// TestSDKDeploysAtOtherScopes deploys at subscription scope (a resource
// group and a nested deployment into it), at the tenant root management
// group and at the tenant, with the SDK's scope-specific methods.
func TestSDKDeploysAtOtherScopes(t *testing.T) {
	e := newDeployEnv(t)
	ctx := context.Background()
	tenant := e.s.Bootstrap.TenantID
	subTmpl := map[string]any{
		"$schema":        "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
		"contentVersion": "1.0.0.0",
		"resources": []any{
			map[string]any{"type": "Microsoft.Resources/resourceGroups", "apiVersion": "2021-04-01", "name": "sub-rg", "location": "[deployment().location]"},
			map[string]any{"type": "Microsoft.Resources/deployments", "apiVersion": "2021-04-01", "name": "into-rg", "resourceGroup": "sub-rg",
				"dependsOn": []any{"[resourceId('Microsoft.Resources/resourceGroups', 'sub-rg')]"},
				// Inner scope: with the default (outer) scope resourceGroup()
				// would answer for the parent, a subscription deployment,
				// and fail as in Azure.
				"properties": map[string]any{"mode": "Incremental", "expressionEvaluationOptions": map[string]any{"scope": "inner"}, "template": map[string]any{
					"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
					"resources": []any{map[string]any{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "n1", "location": "[resourceGroup().location]"}},
					"outputs":   map[string]any{"rg": map[string]any{"type": "string", "value": "[resourceGroup().name]"}}}}},
		},
		"outputs": map[string]any{"nested": map[string]any{"type": "string", "value": "[reference('into-rg').outputs.rg.value]"}},
	}
	if _, err := e.deps.BeginCreateOrUpdateAtSubscriptionScope(ctx, "no-location", armresources.Deployment{Properties: &armresources.DeploymentProperties{
		Template: subTmpl, Mode: to.Ptr(armresources.DeploymentModeIncremental)}}, nil); err == nil || !strings.Contains(err.Error(), "LocationRequired") {
		t.Errorf("subscription deployment without a location: %v", err)
	}
	p, err := e.deps.BeginCreateOrUpdateAtSubscriptionScope(ctx, "sub", armresources.Deployment{Location: to.Ptr("westeurope"), Properties: &armresources.DeploymentProperties{
		Template: subTmpl, Mode: to.Ptr(armresources.DeploymentModeIncremental)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.PollUntilDone(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out := r.Properties.Outputs.(map[string]any)["nested"].(map[string]any)["value"]; out != "sub-rg" {
		t.Errorf("nested output = %v", out)
	}
	if _, err := e.res.GetByID(ctx, "/subscriptions/"+e.sub+"/resourceGroups/sub-rg/providers/Microsoft.Network/networkSecurityGroups/n1", "2022-07-01", nil); err != nil {
		t.Errorf("resource of the nested deployment: %v", err)
	}
	if _, err := e.deps.Get(ctx, "sub-rg", "into-rg", nil); err != nil {
		t.Errorf("the nested deployment is not in the group's history: %v", err)
	}
	if _, err := e.deps.GetAtSubscriptionScope(ctx, "sub", nil); err != nil {
		t.Errorf("subscription history: %v", err)
	}
	outputsOnly := map[string]any{"$schema": "https://schema.management.azure.com/schemas/2019-08-01/tenantDeploymentTemplate.json#", "contentVersion": "1.0.0.0",
		"resources": []any{}, "outputs": map[string]any{"tenant": map[string]any{"type": "string", "value": "[tenant().tenantId]"}}}
	mp, err := e.deps.BeginCreateOrUpdateAtManagementGroupScope(ctx, tenant, "mg", armresources.ScopedDeployment{Location: to.Ptr("westeurope"),
		Properties: &armresources.DeploymentProperties{Template: outputsOnly, Mode: to.Ptr(armresources.DeploymentModeIncremental)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if mr, err := mp.PollUntilDone(ctx, nil); err != nil || mr.Properties.Outputs.(map[string]any)["tenant"].(map[string]any)["value"] != tenant {
		t.Errorf("management group deployment: %+v %v", mr.Properties, err)
	}
	tp, err := e.deps.BeginCreateOrUpdateAtTenantScope(ctx, "tenant", armresources.ScopedDeployment{Location: to.Ptr("westeurope"),
		Properties: &armresources.DeploymentProperties{Template: outputsOnly, Mode: to.Ptr(armresources.DeploymentModeIncremental)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr, err := tp.PollUntilDone(ctx, nil); err != nil || *tr.Properties.ProvisioningState != armresources.ProvisioningStateSucceeded {
		t.Errorf("tenant deployment: %+v %v", tr, err)
	}
	if _, err := e.deps.GetAtTenantScope(ctx, "tenant", nil); err != nil {
		t.Errorf("tenant history: %v", err)
	}
}

// TestSDKWhatIfDeltasAndModify: a policy's modify effect applies to the
// resources a deployment writes and to what-if's predicted documents, and a
// changed property is a Modify with a property-level delta.
func TestSDKWhatIfDeltasAndModify(t *testing.T) {
	tagger := func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
		c.SetPolicyHook(cloud.PolicyHookFunc(func(_ context.Context, req *cloud.PolicyRequest) error {
			if strings.EqualFold(req.Type, "Microsoft.Network/networkSecurityGroups") {
				tags, _ := req.Document["tags"].(map[string]any)
				if tags == nil {
					tags = map[string]any{}
				}
				tags["managedBy"] = "policy"
				req.Document["tags"] = tags
			}
			return nil
		}))
		return nil
	}
	e := newDeployEnv(t, tagger)
	ctx := context.Background()
	tmpl := func(owner string) map[string]any {
		return map[string]any{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
			"resources": []any{map[string]any{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "n",
				"location": "westeurope", "tags": map[string]any{"owner": owner}, "properties": map[string]any{"securityRules": []any{}}}}}
	}
	if _, err := e.deploy(t, "v1", tmpl("alice"), nil, armresources.DeploymentModeIncremental); err != nil {
		t.Fatal(err)
	}
	got, err := e.res.GetByID(ctx, "/subscriptions/"+e.sub+"/resourceGroups/rg1/providers/Microsoft.Network/networkSecurityGroups/n", "2022-07-01", nil)
	if err != nil || got.Tags["managedBy"] == nil || *got.Tags["managedBy"] != "policy" {
		t.Fatalf("modify did not apply to the deployed resource: %v %v", got.Tags, err)
	}
	wp, err := e.deps.BeginWhatIf(ctx, "rg1", "v2", armresources.DeploymentWhatIf{Properties: &armresources.DeploymentWhatIfProperties{
		Template: tmpl("bob"), Mode: to.Ptr(armresources.DeploymentModeIncremental)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wp.PollUntilDone(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Properties.Changes) != 1 {
		t.Fatalf("changes: %d", len(w.Properties.Changes))
	}
	ch := w.Properties.Changes[0]
	if *ch.ChangeType != armresources.ChangeTypeModify || len(ch.Delta) != 1 {
		t.Fatalf("change %s with %d deltas", *ch.ChangeType, len(ch.Delta))
	}
	d := ch.Delta[0]
	if *d.Path != "tags.owner" || *d.PropertyChangeType != armresources.PropertyChangeTypeModify || d.Before != "alice" || d.After != "bob" {
		t.Errorf("delta = %s %s %v -> %v", *d.Path, *d.PropertyChangeType, d.Before, d.After)
	}
}

// TestSDKExistingAndFullReference: a languageVersion 2.0 template reads a
// resource it declares existing, and reference(..., 'Full') returns the
// whole stored document during a deployment.
func TestSDKExistingAndFullReference(t *testing.T) {
	e := newDeployEnv(t)
	nsg := map[string]any{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "pre",
		"location": "westeurope", "tags": map[string]any{"team": "blue"}, "properties": map[string]any{"securityRules": []any{}}}
	base := map[string]any{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0"}
	first := map[string]any{"resources": []any{nsg}}
	for k, v := range base {
		first[k] = v
	}
	if _, err := e.deploy(t, "pre", first, nil, armresources.DeploymentModeIncremental); err != nil {
		t.Fatal(err)
	}
	second := map[string]any{"languageVersion": "2.0",
		"resources": map[string]any{
			"pre": map[string]any{"existing": true, "type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "pre"},
			"copy": map[string]any{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "post",
				"location": "[reference('pre', '2022-07-01', 'Full').location]",
				"tags":     "[reference('pre', '2022-07-01', 'Full').tags]"},
		},
		"outputs": map[string]any{"team": map[string]any{"type": "string", "value": "[reference('pre', '2022-07-01', 'Full').tags.team]"}}}
	for k, v := range base {
		second[k] = v
	}
	r, err := e.deploy(t, "post", second, nil, armresources.DeploymentModeIncremental)
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Properties.Outputs.(map[string]any)["team"].(map[string]any)["value"]; v != "blue" {
		t.Errorf("output from an existing resource = %v", v)
	}
	if len(r.Properties.OutputResources) != 1 {
		t.Errorf("an existing resource was deployed: %d output resources", len(r.Properties.OutputResources))
	}
	got, err := e.res.GetByID(context.Background(), "/subscriptions/"+e.sub+"/resourceGroups/rg1/providers/Microsoft.Network/networkSecurityGroups/post", "2022-07-01", nil)
	if err != nil || *got.Location != "westeurope" || *got.Tags["team"] != "blue" {
		t.Errorf("post = %+v %v", got, err)
	}
}
