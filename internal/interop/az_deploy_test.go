package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/server"
)

// TestAzureCLIDeploysTemplates runs az 2.45's `az deployment group`
// validate, what-if, create, list and operation list against Steward with
// a quickstart-style template with a copy loop and a file built by `bicep
// build` (symbolic names; the SDK tests in internal/cloud cover the other
// templates; each az call costs seconds).
func TestAzureCLIDeploysTemplates(t *testing.T) {
	t.Parallel()
	// Storage accounts are the storage service's type, not mounted here: a
	// hook stands in for it.
	s := serve(t, func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
		c.OnPut("Microsoft.Storage/storageAccounts", func(context.Context, string, map[string]any, map[string]any) error { return nil })
		return nil
	})
	az := newAzCLI(t, s)
	az.registerCloud(t, s.BaseURL, s.BaseURL+"adfs")
	az.json(t, nil, "login", "--service-principal", "-u", s.Info.ClientID, "-p", s.Info.ClientSecret, "--tenant", s.Info.TenantID)
	az.json(t, nil, "group", "create", "-n", "deploy-rg", "-l", "westeurope")
	// The bicep file's diagnostic setting sends to this workspace.
	az.json(t, nil, "resource", "create", "-g", "deploy-rg", "-n", "logs1", "--resource-type", "Microsoft.OperationalInsights/workspaces",
		"--api-version", "2022-10-01", "-l", "westeurope", "-p", "{}")
	cases := []struct {
		name, file string
		params     []string
		resources  int
	}{
		{"loop", "copy.json", []string{"--parameters", "count=2"}, 3},
		{"bicep", "bicep.json", nil, 3}, // the workspace is an existing resource
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file, err := filepath.Abs(filepath.Join("..", "template", "testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			base := append([]string{"-g", "deploy-rg", "-n", c.name, "--template-file", file}, c.params...)
			var valid struct {
				Properties struct {
					ProvisioningState  string
					ValidatedResources []struct{ ID string }
				}
			}
			az.json(t, &valid, append([]string{"deployment", "group", "validate"}, base...)...)
			if valid.Properties.ProvisioningState != "Succeeded" || len(valid.Properties.ValidatedResources) != c.resources {
				t.Errorf("validate: %+v", valid.Properties)
			}
			var whatIf struct {
				Status  string
				Changes []struct{ ChangeType, ResourceID string }
			}
			az.json(t, &whatIf, append([]string{"deployment", "group", "what-if", "--no-pretty-print"}, base...)...)
			creates := 0
			for _, ch := range whatIf.Changes {
				if ch.ChangeType == "Create" {
					creates++
				}
			}
			if whatIf.Status != "Succeeded" || creates != c.resources {
				t.Errorf("what-if: %+v", whatIf)
			}
			var created struct {
				Name       string
				Properties struct {
					ProvisioningState string
					OutputResources   []struct{ ID string }
					Outputs           map[string]struct{ Value any }
				}
			}
			az.json(t, &created, append([]string{"deployment", "group", "create"}, base...)...)
			if created.Properties.ProvisioningState != "Succeeded" || len(created.Properties.OutputResources) != c.resources || len(created.Properties.Outputs) == 0 {
				t.Errorf("create: %+v", created)
			}
			var ops []struct {
				Properties struct {
					ProvisioningState string
					TargetResource    struct{ ID string }
				}
			}
			az.json(t, &ops, "deployment", "operation", "group", "list", "-g", "deploy-rg", "-n", c.name)
			if len(ops) != c.resources {
				t.Errorf("operations: %+v", ops)
			}
		})
	}
	var list []struct{ Name string }
	az.json(t, &list, "deployment", "group", "list", "-g", "deploy-rg")
	var names []string
	for _, d := range list {
		names = append(names, d.Name)
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); got != "bicep,loop" {
		t.Errorf("deployment list = %s", got)
	}
}

// TestAzureCLICancelsDeployment starts a deployment with `az deployment
// group create --no-wait` whose first write Steward holds, cancels it with
// `az deployment group cancel`, and waits for it to read Canceled: the
// resource being written stays, the next one is never written.
func TestAzureCLICancelsDeployment(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}, 1), make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	s := serve(t, func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
		c.OnPut("Microsoft.Network/networkSecurityGroups", func(_ context.Context, id string, _, _ map[string]any) error {
			if strings.HasSuffix(strings.ToLower(id), "/gate") {
				entered <- struct{}{}
				<-release
			}
			return nil
		})
		return nil
	})
	t.Cleanup(open) // before serve's cleanup stops the deployments
	az := newAzCLI(t, s)
	az.registerCloud(t, s.BaseURL, s.BaseURL+"adfs")
	az.json(t, nil, "login", "--service-principal", "-u", s.Info.ClientID, "-p", s.Info.ClientSecret, "--tenant", s.Info.TenantID)
	az.json(t, nil, "group", "create", "-n", "cancel-rg", "-l", "westeurope")
	nsg := `{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "%s", "location": "westeurope", "properties": {}%s}`
	tmpl := `{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": [` +
		fmt.Sprintf(nsg, "gate", "") + `, ` + fmt.Sprintf(nsg, "after", `, "dependsOn": ["gate"]`) + `]}`
	file := filepath.Join(t.TempDir(), "gated.json")
	if err := os.WriteFile(file, []byte(tmpl), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := az.run("deployment", "group", "create", "-g", "cancel-rg", "-n", "held", "--template-file", file, "--no-wait"); err != nil {
		t.Fatalf("create --no-wait: %v\n%s", err, out)
	}
	<-entered
	if out, err := az.run("deployment", "group", "cancel", "-g", "cancel-rg", "-n", "held"); err != nil {
		t.Fatalf("cancel: %v\n%s", err, out)
	}
	open()
	if out, err := az.run("deployment", "group", "wait", "-g", "cancel-rg", "-n", "held", "--interval", "1", "--timeout", "50",
		"--custom", "properties.provisioningState=='Canceled'"); err != nil {
		t.Fatalf("wait for Canceled: %v\n%s", err, out)
	}
	var ids []string
	az.json(t, &ids, "resource", "list", "-g", "cancel-rg", "--query", "[].name")
	if strings.Join(ids, ",") != "gate" {
		t.Errorf("resources after the cancel: %v, want only gate", ids)
	}
	if out, err := az.run("deployment", "group", "cancel", "-g", "cancel-rg", "-n", "held"); err == nil || !strings.Contains(out, "DeploymentCannotBeCancelled") {
		t.Errorf("second cancel: %v\n%s", err, out)
	}
}
