package interop

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestAzureCLIDeploysTemplates runs az 2.45's `az deployment group`
// validate, what-if, create, list and operation list against Steward with
// a quickstart-style template with a copy loop (the SDK tests in
// internal/cloud cover the other templates; each az call costs seconds).
func TestAzureCLIDeploysTemplates(t *testing.T) {
	t.Parallel()
	s := serve(t)
	az := newAzCLI(t, s)
	az.registerCloud(t, s.BaseURL, s.BaseURL+"adfs")
	az.json(t, nil, "login", "--service-principal", "-u", s.Info.ClientID, "-p", s.Info.ClientSecret, "--tenant", s.Info.TenantID)
	az.json(t, nil, "group", "create", "-n", "deploy-rg", "-l", "westeurope")
	cases := []struct {
		name, file string
		params     []string
		resources  int
	}{
		{"loop", "copy.json", []string{"--parameters", "count=2"}, 3},
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
	if got := strings.Join(names, ","); got != "loop" {
		t.Errorf("deployment list = %s", got)
	}
}
