package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCommandsAUserReachesFor drives the definition, exemption, vault,
// workspace, role-definition, token and version commands against a Steward
// with every service, in order, checking output, JSON and exit statuses,
// including the delete of something that does not exist.
func TestCommandsAUserReachesFor(t *testing.T) {
	dir, s := serveCloud(t, serveServices(policyproviderOptions{}, nil)...)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	steps := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"version", "-o", "json"}, exitOK, []string{`"version"`, `"go"`}},
		{[]string{"token", "-o", "json"}, exitOK, []string{`"accessToken": "ey`, `"tokenType": "Bearer"`}},
		{[]string{"policy", "definition", "create", "rg-eu", "--mode", "All",
			"--rules", "../../examples/guardrails/rg-eu.rules.json", "--parameters", "../../examples/guardrails/rg-eu.parameters.json"}, exitOK, []string{"rg-eu", "Custom", "All"}},
		{[]string{"policy", "definition", "create", "bad", "--rules", "{not json"}, exitUsage, []string{"--rules"}},
		{[]string{"policy", "definition", "list", "--custom-only"}, exitOK, []string{"rg-eu"}},
		{[]string{"policy", "definition", "show", "rg-eu", "-o", "json"}, exitOK, []string{`"policyRule"`, `"allowed"`}},
		{[]string{"policy", "assignment", "create", "eu-only", "--policy", "rg-eu", "--parameters", `{"allowed":["westeurope"]}`}, exitOK, []string{"eu-only"}},
		{[]string{"group", "create", "sandbox", "-l", "westeurope"}, exitOK, nil},
		{[]string{"policy", "exemption", "create", "sandbox-waiver", "--policy-assignment", "eu-only", "--exemption-category", "Waiver",
			"--scope", sub + "/resourceGroups/sandbox"}, exitOK, []string{"sandbox-waiver", "eu-only", "Waiver"}},
		{[]string{"policy", "exemption", "create", "x", "--policy-assignment", "eu-only", "--exemption-category", "Sometimes"}, exitUsage, []string{"Waiver or Mitigated"}},
		{[]string{"policy", "exemption", "list", "--scope", sub + "/resourceGroups/sandbox", "-o", "json"}, exitOK, []string{`"exemptionCategory": "Waiver"`}},
		{[]string{"policy", "exemption", "show", "sandbox-waiver", "--scope", sub + "/resourceGroups/sandbox"}, exitOK, []string{"sandbox-waiver"}},
		{[]string{"policy", "exemption", "delete", "sandbox-waiver", "--scope", sub + "/resourceGroups/sandbox", "-o", "json"}, exitOK, []string{`"result": "deleted"`}},
		{[]string{"policy", "exemption", "delete", "sandbox-waiver", "--scope", sub + "/resourceGroups/sandbox"}, exitNo, []string{"NotFound"}},
		{[]string{"policy", "assignment", "delete", "eu-only"}, exitOK, []string{"deleted"}},
		{[]string{"policy", "assignment", "delete", "eu-only"}, exitNo, []string{"PolicyAssignmentNotFound"}},
		{[]string{"policy", "definition", "delete", "rg-eu"}, exitOK, []string{"deleted"}},
		{[]string{"policy", "definition", "delete", "rg-eu"}, exitNo, []string{"PolicyDefinitionNotFound"}},
		{[]string{"vault", "create", "-n", "team-kv", "-g", "sandbox", "-l", "westeurope"}, exitOK, []string{"team-kv", "sandbox", "https://team-kv.vault.azure.net"}},
		{[]string{"vault", "list", "-o", "json"}, exitOK, []string{`"name": "team-kv"`}},
		{[]string{"vault", "secret", "set", "--vault-name", "team-kv", "--name", "s1", "--value", "v"}, exitOK, nil},
		{[]string{"vault", "secret", "show", "--vault-name", "team-kv", "--name", "missing"}, exitNo, []string{"SecretNotFound (HTTP 404)"}},
		{[]string{"rbac", "roles", "import", "--state", "state.json", "missing.json"}, exitUsage, nil},
		{[]string{"vault", "delete", "-n", "team-kv", "-g", "sandbox"}, exitOK, []string{"deleted"}},
		{[]string{"vault", "delete", "-n", "team-kv", "-g", "sandbox"}, exitNo, []string{"NotFound"}},
		{[]string{"logs", "workspace", "create", "ws1", "-g", "sandbox", "-l", "westeurope"}, exitOK, nil},
		{[]string{"logs", "ingest", "../../examples/guardrails/rows.json", "-w", "ws1", "-g", "sandbox", "--log-type", "Compliance", "-o", "json"}, exitOK,
			[]string{`"name": "Compliance_CL"`, `"result": "posted"`}},
		{[]string{"logs", "workspace", "delete", "ws1", "-g", "sandbox", "-o", "json"}, exitOK, []string{`"result": "deleted"`}},
		{[]string{"logs", "workspace", "delete", "ws1", "-g", "sandbox"}, exitNo, []string{"NotFound"}},
		{[]string{"role", "definition", "create", "--role-definition",
			`{"Name":"Site Reader","Actions":["Microsoft.Web/sites/read"],"AssignableScopes":["` + sub + `"]}`}, exitOK, []string{"Site Reader", "CustomRole"}},
		{[]string{"role", "definition", "create", "--role-definition", `{"Actions":[]}`}, exitUsage, []string{"Name and AssignableScopes"}},
		{[]string{"role", "definition", "delete", "Reader"}, exitNo, []string{"built-in"}},
		{[]string{"role", "definition", "delete", "Site Reader", "-o", "json"}, exitOK, []string{`"result": "deleted"`}},
		{[]string{"role", "definition", "delete", "Site Reader"}, exitNo, []string{"no role named"}},
		{[]string{"group", "delete", "sandbox", "--yes", "-o", "json"}, exitOK, []string{`"result": "deleted"`}},
		{[]string{"group", "delete", "sandbox", "--yes"}, exitNo, []string{"ResourceGroupNotFound"}},
	}
	for _, st := range steps {
		args := st.args
		if args[0] != "version" {
			args = append(args, "--data", dir)
		}
		out, err := runCLI(t, args...)
		msg, code := classifyError(err)
		if code != st.code {
			t.Errorf("steward %s: exit %d, want %d\n%s%s", strings.Join(st.args, " "), code, st.code, out, msg)
			continue
		}
		for _, w := range st.want {
			if !strings.Contains(out+msg, w) {
				t.Errorf("steward %s: output lacks %q\n%s%s", strings.Join(st.args, " "), w, out, msg)
			}
		}
		if strings.Contains(msg, "RESPONSE") || strings.Count(msg, "\n") > 3 {
			t.Errorf("steward %s: an SDK dump, not one rendered error:\n%s", strings.Join(st.args, " "), msg)
		}
		if code == exitOK && hasJSONFlag(st.args) && !json.Valid([]byte(out)) {
			t.Errorf("steward %s -o json: not JSON:\n%s", strings.Join(st.args, " "), out)
		}
	}
}

func hasJSONFlag(args []string) bool {
	for i, a := range args {
		if a == "-o" && i+1 < len(args) && args[i+1] == "json" {
			return true
		}
	}
	return false
}
