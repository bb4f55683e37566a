package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/server"
)

// TestBaselineRefusesDeployments assigns the baseline with `steward
// baseline assign`, then deploys each rule's violating template (refused
// with RequestDisallowedByPolicy, nothing written) and its compliant
// version (deployed) with `steward deployment create`.
func TestBaselineRefusesDeployments(t *testing.T) {
	aliases := sharedAliases(t)
	// Storage accounts are another service's resource type; a hook
	// stands in for it so that the compliant templates deploy here.
	provided := func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
		c.OnPut("Microsoft.Storage/storageAccounts", func(context.Context, string, map[string]any, map[string]any) error { return nil })
		return nil
	}
	dir, s := serveCloud(t, server.CloudService(registerProviders(policyproviderOptions{aliases: aliases}), provided))
	run := func(args ...string) (string, error) {
		return runCLI(t, append(args, "--data", dir)...)
	}
	if out, err := run("group", "create", "rg", "--location", "westeurope"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The templates' diagnostic settings send to workspace w of group rg.
	sub := s.Bootstrap.SubscriptionID
	if out, err := run("resource", "create", "/subscriptions/"+sub+"/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w", "-l", "westeurope"); err != nil {
		t.Fatalf("workspace: %v\n%s", err, out)
	}
	if out, err := run("baseline", "assign"); err != nil {
		t.Fatalf("baseline assign: %v\n%s", err, out)
	}
	tmp := t.TempDir()
	for i, c := range baselineCases() {
		if c.rule == "diagnosticsToWorkspace" {
			continue // auditIfNotExists reports; it does not refuse a write
		}
		t.Run(c.rule, func(t *testing.T) {
			bad := filepath.Join(tmp, c.rule+"-bad-"+string(rune('a'+i))+".json")
			good := filepath.Join(tmp, c.rule+"-good-"+string(rune('a'+i))+".json")
			ours := func(tmpl string) []byte {
				return []byte(strings.ReplaceAll(tmpl, "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/", "/subscriptions/"+sub+"/resourceGroups/rg/"))
			}
			_ = os.WriteFile(bad, ours(c.bad), 0o600)
			_ = os.WriteFile(good, ours(c.good), 0o600)
			name := "d" + string(rune('a'+i))
			out, err := run("deployment", "create", name+"bad", "-g", "rg", "--template-file", bad)
			var ex *exitError
			if !errors.As(err, &ex) || ex.code != 1 || !strings.Contains(ex.msg, "RequestDisallowedByPolicy") {
				t.Fatalf("violating deployment: %v %+v\n%s", err, ex, out)
			}
			if out, err := run("deployment", "what-if", name+"bad", "-g", "rg", "--template-file", bad); err == nil {
				t.Errorf("what-if of a violating template passed:\n%s", out)
			}
			if out, err := run("deployment", "create", name+"good", "-g", "rg", "--template-file", good); err != nil {
				t.Fatalf("compliant deployment: %v\n%s", err, out)
			}
		})
	}
	// At the subscription: a copy loop of resource groups.
	if out, err := run("deployment", "create", "groups", "--location", "westeurope", "--template-file", "../../examples/templates/subscription.json"); err != nil {
		t.Errorf("subscription deployment: %v\n%s", err, out)
	}
	if out, err := run("group", "show", "team-b"); err != nil {
		t.Errorf("group of the subscription deployment: %v\n%s", err, out)
	}
	if out, err := run("deployment", "list"); err != nil || !strings.Contains(out, "groups") {
		t.Errorf("subscription history: %v\n%s", err, out)
	}
	// A template linking another by relativePath is sent with it in line.
	if out, err := run("deployment", "create", "linked", "-g", "rg", "--template-file", "../../examples/templates/main-linked.json", "-o", "json"); err != nil ||
		!strings.Contains(out, "networkSecurityGroups/linked-nsg") {
		t.Errorf("linked template: %v\n%s", err, out)
	}
	out, err := run("deployment", "list", "-g", "rg")
	if err != nil || strings.Count(out, "Succeeded") != 10 {
		t.Errorf("list: %v\n%s", err, out)
	}
}
