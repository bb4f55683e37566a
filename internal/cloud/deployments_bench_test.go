package cloud_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// BenchmarkDeploy100 deploys a template of 100 network security groups
// (a copy loop) with the SDK, from the PUT until the poller reads
// Succeeded: preflight, the background job writing each resource through
// the pipeline and storing each operation as it ends, and the poller's
// waits (Retry-After: 1 while the deployment runs).
func BenchmarkDeploy100(b *testing.B) { benchDeploy(b, 100) }

// BenchmarkDeploy400 is BenchmarkDeploy100 with 400 resources, where the
// last poll interval weighs less.
func BenchmarkDeploy400(b *testing.B) { benchDeploy(b, 400) }

func benchDeploy(b *testing.B, n int) {
	e, _ := benchEnv(b, 0)
	deps, err := armresources.NewDeploymentsClient(e.sub, e.cred, e.opts)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := map[string]any{
		"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
		"resources": []any{map[string]any{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01",
			"name": "[format('nsg{0}', copyIndex())]", "location": "westeurope", "copy": map[string]any{"name": "nsgs", "count": n},
			"properties": map[string]any{}}},
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		p, err := deps.BeginCreateOrUpdate(ctx, "bench", fmt.Sprintf("d%d", i), armresources.Deployment{Properties: &armresources.DeploymentProperties{
			Template: tmpl, Mode: to.Ptr(armresources.DeploymentModeIncremental)}}, nil)
		if err != nil {
			b.Fatal(err)
		}
		r, err := p.PollUntilDone(ctx, nil)
		if err != nil || *r.Properties.ProvisioningState != armresources.ProvisioningStateSucceeded {
			b.Fatalf("%v %v", r.Properties, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(n), "ms/resource")
}
