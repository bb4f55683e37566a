package cloud_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/server"
)

// gate holds the write of the NSG named "gate" of a deployment: the hook
// reports each entry on entered and, while it holds the write, runs
// during (if set), then waits for release.
type gate struct {
	entered chan struct{}
	release chan struct{}
	during  func(ctx context.Context)
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 1), release: make(chan struct{})} }

func (g *gate) setup(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
	c.OnPut("Microsoft.Network/networkSecurityGroups", func(ctx context.Context, id string, _, _ map[string]any) error {
		if !strings.HasSuffix(strings.ToLower(id), "/gate") {
			return nil
		}
		g.entered <- struct{}{}
		if g.during != nil {
			g.during(ctx)
		}
		<-g.release
		return nil
	})
	return nil
}

func gatedTemplate() map[string]any {
	nsg := func(name string, deps ...any) map[string]any {
		r := map[string]any{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": name,
			"location": "westeurope", "properties": map[string]any{}}
		if len(deps) > 0 {
			r["dependsOn"] = deps
		}
		return r
	}
	return map[string]any{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion": "1.0.0.0", "resources": []any{nsg("gate"), nsg("after", "gate")}}
}

func nsgID(e *deployEnv, name string) string {
	return "/subscriptions/" + e.sub + "/resourceGroups/rg1/providers/Microsoft.Network/networkSecurityGroups/" + name
}

// TestSDKDeploymentIsLongRunning starts a deployment whose first write is
// held: the PUT has answered 201 Accepted with an Azure-AsyncOperation
// header, GET shows Running with the operations so far, and the poller
// ends Succeeded once the write goes on.
func TestSDKDeploymentIsLongRunning(t *testing.T) {
	g := newGate()
	e := newDeployEnv(t, g.setup)
	ctx := context.Background()
	var rawResp *http.Response
	poller, err := e.deps.BeginCreateOrUpdate(policy.WithCaptureResponse(ctx, &rawResp), "rg1", "slow", armresources.Deployment{Properties: &armresources.DeploymentProperties{
		Template: gatedTemplate(), Mode: to.Ptr(armresources.DeploymentModeIncremental)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rawResp.StatusCode != http.StatusCreated || rawResp.Header.Get("Azure-AsyncOperation") == "" {
		t.Errorf("PUT answered %d with Azure-AsyncOperation %q, want 201 with the header", rawResp.StatusCode, rawResp.Header.Get("Azure-AsyncOperation"))
	}
	<-g.entered
	got, err := e.deps.Get(ctx, "rg1", "slow", nil)
	if err != nil || *got.Properties.ProvisioningState != armresources.ProvisioningStateRunning {
		t.Fatalf("deployment while its first write is held: %v %v", got.Properties.ProvisioningState, err)
	}
	// Deleting it while it runs is refused.
	if _, err := e.deps.BeginDelete(ctx, "rg1", "slow", nil); !isCode(err, http.StatusConflict, "DeploymentActive") {
		t.Errorf("DELETE of a running deployment: %v, want 409 DeploymentActive", err)
	}
	// A second PUT of the same name while it runs is refused.
	if _, err := e.deps.BeginCreateOrUpdate(ctx, "rg1", "slow", armresources.Deployment{Properties: &armresources.DeploymentProperties{
		Template: gatedTemplate(), Mode: to.Ptr(armresources.DeploymentModeIncremental)}}, nil); !isCode(err, http.StatusConflict, "DeploymentActive") {
		t.Errorf("PUT over a running deployment: %v, want 409 DeploymentActive", err)
	}
	close(g.release)
	r, err := poller.PollUntilDone(ctx, nil)
	if err != nil || *r.Properties.ProvisioningState != armresources.ProvisioningStateSucceeded {
		t.Fatalf("poller: %v %v", r.Properties, err)
	}
	if _, err := e.res.GetByID(ctx, nsgID(e, "after"), "2022-07-01", nil); err != nil {
		t.Errorf("the second resource was not written: %v", err)
	}
}

// TestSDKCancelRunningDeployment cancels a deployment while its first
// write is held: cancel answers 204, the deployment ends Canceled, the
// resource being written stays and the next is never written; a second
// cancel is 409 DeploymentCannotBeCancelled.
func TestSDKCancelRunningDeployment(t *testing.T) {
	g := newGate()
	e := newDeployEnv(t, g.setup)
	ctx := context.Background()
	var cancelErr error
	var cancelStatus int
	g.during = func(context.Context) {
		var resp *http.Response
		_, cancelErr = e.deps.Cancel(policy.WithCaptureResponse(ctx, &resp), "rg1", "canceled", nil)
		if resp != nil {
			cancelStatus = resp.StatusCode
		}
		close(g.release)
	}
	poller, err := e.deps.BeginCreateOrUpdate(ctx, "rg1", "canceled", armresources.Deployment{Properties: &armresources.DeploymentProperties{
		Template: gatedTemplate(), Mode: to.Ptr(armresources.DeploymentModeIncremental)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	<-g.entered
	_, err = poller.PollUntilDone(ctx, nil)
	if cancelErr != nil || cancelStatus != http.StatusNoContent {
		t.Fatalf("cancel of a running deployment: %d %v", cancelStatus, cancelErr)
	}
	if err == nil || !strings.Contains(err.Error(), "Canceled") {
		t.Errorf("poller of a canceled deployment: %v, want an error naming Canceled", err)
	}
	got, err := e.deps.Get(ctx, "rg1", "canceled", nil)
	if err != nil || *got.Properties.ProvisioningState != armresources.ProvisioningStateCanceled {
		t.Fatalf("canceled deployment: %v %v", got.Properties.ProvisioningState, err)
	}
	if _, err := e.res.GetByID(ctx, nsgID(e, "gate"), "2022-07-01", nil); err != nil {
		t.Errorf("the resource written when the cancel came is gone: %v", err)
	}
	if _, err := e.res.GetByID(ctx, nsgID(e, "after"), "2022-07-01", nil); err == nil {
		t.Error("a canceled deployment went on writing")
	}
	if _, err := e.deps.Cancel(ctx, "rg1", "canceled", nil); !isCode(err, http.StatusConflict, "DeploymentCannotBeCancelled") {
		t.Errorf("second cancel: %v, want 409 DeploymentCannotBeCancelled", err)
	}
}

// TestDeploymentLeftRunningByAStoppedSteward: a deployment stored Running
// that no one runs (its Steward stopped) reads Failed with
// DeploymentInterrupted, and cannot be cancelled.
func TestDeploymentLeftRunningByAStoppedSteward(t *testing.T) {
	e := newDeployEnv(t)
	ctx := context.Background()
	if err := cloud.PutOrphanDeployment(ctx, e.s.Cloud, "/subscriptions/"+e.sub+"/resourceGroups/rg1", "orphan", "Running"); err != nil {
		t.Fatal(err)
	}
	got, err := e.deps.Get(ctx, "rg1", "orphan", nil)
	if err != nil || *got.Properties.ProvisioningState != armresources.ProvisioningStateFailed {
		t.Fatalf("orphan deployment: %v %v", got.Properties.ProvisioningState, err)
	}
	if d := got.Properties.Error.Details; len(d) != 1 || *d[0].Code != "DeploymentInterrupted" {
		t.Errorf("orphan deployment's error: %+v", got.Properties.Error)
	}
	if _, err := e.deps.Cancel(ctx, "rg1", "orphan", nil); !isCode(err, http.StatusConflict, "DeploymentCannotBeCancelled") {
		t.Errorf("cancel of the orphan: %v", err)
	}
}

// TestStopInterruptsRunningDeployment stops the Cloud's deployments while
// one's write is held: it stops before its next write, recorded Failed
// with DeploymentInterrupted.
func TestStopInterruptsRunningDeployment(t *testing.T) {
	g := newGate()
	e := newDeployEnv(t, g.setup)
	ctx := context.Background()
	poller, err := e.deps.BeginCreateOrUpdate(ctx, "rg1", "stopped", armresources.Deployment{Properties: &armresources.DeploymentProperties{
		Template: gatedTemplate(), Mode: to.Ptr(armresources.DeploymentModeIncremental)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	<-g.entered
	stopped := make(chan struct{})
	go func() { e.s.Cloud.StopDeployments(); close(stopped) }()
	for !cloud.DeploymentsStopping(e.s.Cloud) {
		runtime.Gosched()
	}
	close(g.release)
	<-stopped
	_, err = poller.PollUntilDone(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "DeploymentInterrupted") {
		t.Errorf("poller of an interrupted deployment: %v", err)
	}
	if _, err := e.res.GetByID(ctx, nsgID(e, "after"), "2022-07-01", nil); err == nil {
		t.Error("an interrupted deployment went on writing")
	}
}

// TestDeployForOtherCloudCode: Cloud.Deploy, which providers use to run a
// template (a managed application's mainTemplate), returns once the
// deployment has ended, with its outcome: Succeeded with outputs, or
// Failed with the failed write's error.
func TestDeployForOtherCloudCode(t *testing.T) {
	var got map[string]any
	var gotErr error
	setup := func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
		return c.Register(cloud.Routes{{Type: "Test.Deployer/things", Handler: func(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
			rg := "/subscriptions/" + call.Target.Resource.SubscriptionID + "/resourceGroups/" + call.Target.Resource.ResourceGroup
			got, gotErr = c.Deploy(ctx, call, rg, "inner-"+call.Target.Name, map[string]any{"properties": map[string]any{
				"mode": "Incremental", "template": gatedTemplate(), "parameters": map[string]any{}}})
			if gotErr != nil {
				return nil, gotErr
			}
			return &cloud.Response{Status: http.StatusOK, Body: map[string]any{"id": call.Target.ID}}, nil
		}}})
	}
	g := newGate()
	close(g.release)
	e := newDeployEnv(t, g.setup, setup)
	resp, out := e.do(t, http.MethodPut, "/subscriptions/"+e.sub+"/resourceGroups/rg1/providers/Test.Deployer/things/a?api-version=2021-04-01", e.adminToken(t), []byte(`{}`))
	if resp.StatusCode != http.StatusOK || gotErr != nil {
		t.Fatalf("PUT: %d %s %v", resp.StatusCode, out, gotErr)
	}
	<-g.entered
	props, _ := got["properties"].(map[string]any)
	if props["provisioningState"] != "Succeeded" {
		t.Errorf("Deploy returned %v, want the ended deployment", props["provisioningState"])
	}
	if _, err := e.res.GetByID(context.Background(), nsgID(e, "after"), "2022-07-01", nil); err != nil {
		t.Errorf("the deployment's last resource: %v", err)
	}
}
