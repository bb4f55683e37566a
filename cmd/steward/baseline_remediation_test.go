package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/policy"
)

// sharedAliases loads the alias table of ../shared (the baseline's NSG and
// diagnostic-settings rules read aliases), or skips the test without it.
func sharedAliases(t *testing.T) *policy.AliasTable {
	t.Helper()
	data, err := os.ReadFile("../../../shared/corpus/aliases/policy-aliases.csv.gz")
	if err != nil {
		t.Skipf("alias table not found: %v", err)
	}
	aliases, err := policy.LoadAliases(data)
	if err != nil {
		t.Fatal(err)
	}
	return aliases
}

// cliMust returns a runner of steward commands against the data directory
// dir that fails the test when a command fails.
func cliMust(t *testing.T, dir string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		out, err := runCLI(t, append(args, "--data", dir)...)
		if err != nil {
			t.Fatalf("steward %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
}

// TestBaselineDiagnosticsRemediation: the baseline assigned with its
// diagnostic-settings rule as deployIfNotExists (a system identity,
// Monitoring Contributor and Log Analytics Contributor on the group), a
// network security group written without diagnostic settings is
// NonCompliant; `steward policy remediation create` (waiting for the end)
// deploys the rule's template, which writes the setting on the group's
// resource through the pipeline; after a new evaluation the resource is
// Compliant and the setting sends to the workspace.
func TestBaselineDiagnosticsRemediation(t *testing.T) {
	aliases := sharedAliases(t)
	dir, s := serveCloud(t, serveServices(policyproviderOptions{aliases: aliases}, nil)...)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	rg := sub + "/resourceGroups/app"
	ws := rg + "/providers/Microsoft.OperationalInsights/workspaces/logs"
	nsg := rg + "/providers/Microsoft.Network/networkSecurityGroups/web"
	must := cliMust(t, dir)
	must("group", "create", "app", "-l", "westeurope")
	must("resource", "create", ws, "-l", "westeurope", "--tags", "environment=dev", "--tags", "costCenter=cc-1")
	params := `{"diagnosticsEffect": "DeployIfNotExists", "workspaceId": "` + ws + `"}`
	out := must("baseline", "assign", "--scope", rg, "--parameters", params, "--system-identity", "--location", "westeurope", "-o", "json")
	var a struct {
		ID       string `json:"id"`
		Identity struct {
			PrincipalID string `json:"principalId"`
		} `json:"identity"`
	}
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.Identity.PrincipalID == "" {
		t.Fatalf("assignment: %v\n%s", err, out)
	}
	for _, role := range []string{"Monitoring Contributor", "Log Analytics Contributor"} {
		must("role", "assignment", "create", "--assignee", a.Identity.PrincipalID, "--assignee-principal-type", "ServicePrincipal",
			"--role", role, "--scope", rg)
	}
	must("resource", "create", nsg, "-l", "westeurope", "--tags", "environment=dev", "--tags", "costCenter=cc-1",
		"--properties", `{"securityRules": []}`)
	state := func() string {
		t.Helper()
		must("compliance", "trigger", "-g", "app")
		out := must("compliance", "list", "-g", "app", "--filter", "PolicyDefinitionReferenceId eq 'diagnosticsToWorkspace'", "-o", "json")
		var states []struct {
			ResourceID      string `json:"resourceId"`
			ComplianceState string `json:"complianceState"`
		}
		if err := json.Unmarshal([]byte(out), &states); err != nil {
			t.Fatalf("compliance list: %v\n%s", err, out)
		}
		for _, st := range states {
			if strings.EqualFold(st.ResourceID, nsg) {
				return st.ComplianceState
			}
		}
		return ""
	}
	if got := state(); got != "NonCompliant" {
		t.Fatalf("before the remediation: %q, want NonCompliant", got)
	}
	out = must("policy", "remediation", "create", "diag", "--policy-assignment", a.ID, "--definition-reference-id", "diagnosticsToWorkspace", "--scope", rg)
	if !strings.Contains(out, "Succeeded") {
		t.Fatalf("remediation:\n%s", out)
	}
	setting := must("resource", "show", nsg+"/providers/Microsoft.Insights/diagnosticSettings/steward-baseline", "-o", "json")
	if !strings.Contains(strings.ToLower(setting), strings.ToLower(`"workspaceId": "`+ws+`"`)) {
		t.Errorf("the deployed setting:\n%s", setting)
	}
	// an NSG has logs and no metrics in Azure: the template sends its
	// log categories (allLogs) and asks for no metric category
	var sp struct {
		Properties struct {
			Logs    []map[string]any `json:"logs"`
			Metrics []map[string]any `json:"metrics"`
		} `json:"properties"`
	}
	if err := json.Unmarshal([]byte(setting), &sp); err != nil || len(sp.Properties.Logs) != 1 || sp.Properties.Logs[0]["categoryGroup"] != "allLogs" || len(sp.Properties.Metrics) != 0 {
		t.Errorf("the NSG's setting should have logs [allLogs] and no metrics (%v):\n%s", err, setting)
	}
	if got := state(); got != "Compliant" {
		t.Errorf("after the remediation: %q, want Compliant", got)
	}
}
