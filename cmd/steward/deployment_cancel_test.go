package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/server"
)

// TestDeploymentCancelCommand holds the first write of a deployment that
// `steward deployment create` runs, cancels it with `steward deployment
// cancel` meanwhile, and checks: create fails naming Canceled, show reads
// Canceled, only the held resource exists, and a second cancel exits 1
// with DeploymentCannotBeCancelled.
func TestDeploymentCancelCommand(t *testing.T) {
	var dir string
	var cancelOut string
	var cancelErr error
	gate := func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
		c.OnPut("Microsoft.Network/networkSecurityGroups", func(_ context.Context, id string, _, _ map[string]any) error {
			if strings.HasSuffix(strings.ToLower(id), "/gate") {
				// The deployment is Running, held here: cancel it.
				cancelOut, cancelErr = runCLI(t, "deployment", "cancel", "held", "-g", "rg", "-o", "json", "--data", dir)
			}
			return nil
		})
		return nil
	}
	var s *server.Steward
	dir, s = serveCloud(t, server.CloudService(gate))
	run := func(args ...string) (string, error) { return runCLI(t, append(args, "--data", dir)...) }
	if out, err := run("group", "create", "rg", "--location", "westeurope"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	nsg := `{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "%s", "location": "westeurope", "properties": {}%s}`
	tmpl := `{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": [` +
		strings.Replace(strings.Replace(nsg, "%s", "gate", 1), "%s", "", 1) + `, ` +
		strings.Replace(strings.Replace(nsg, "%s", "after", 1), "%s", `, "dependsOn": ["gate"]`, 1) + `]}`
	file := filepath.Join(t.TempDir(), "gated.json")
	if err := os.WriteFile(file, []byte(tmpl), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run("deployment", "create", "held", "-g", "rg", "--template-file", file)
	if cancelErr != nil {
		t.Fatalf("cancel: %v\n%s", cancelErr, cancelOut)
	}
	var shown struct {
		Properties struct{ ProvisioningState string }
	}
	if err := json.Unmarshal([]byte(cancelOut), &shown); err != nil || shown.Properties.ProvisioningState != "Running" {
		t.Errorf("cancel's output (the deployment still at its held write): %v\n%s", err, cancelOut)
	}
	if err == nil || !strings.Contains(out+err.Error(), "Canceled") {
		t.Errorf("create of a canceled deployment: %v\n%s", err, out)
	}
	if out, err := run("deployment", "show", "held", "-g", "rg", "-o", "json"); err != nil || json.Unmarshal([]byte(out), &shown) != nil || shown.Properties.ProvisioningState != "Canceled" {
		t.Errorf("show after the cancel: %v\n%s", err, out)
	}
	nsgs := "/subscriptions/" + s.Bootstrap.SubscriptionID + "/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/"
	if out, err := run("resource", "show", nsgs+"gate"); err != nil {
		t.Errorf("the resource written when the cancel came: %v\n%s", err, out)
	}
	if out, err := run("resource", "show", nsgs+"after"); err == nil {
		t.Errorf("the canceled deployment wrote its second resource:\n%s", out)
	}
	out, err = run("deployment", "cancel", "held", "-g", "rg")
	var ex *exitError
	if !errors.As(err, &ex) || ex.code != 1 || !strings.Contains(ex.msg, "DeploymentCannotBeCancelled") {
		t.Errorf("second cancel: %v %+v\n%s", err, ex, out)
	}
}
