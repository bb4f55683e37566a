package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPolicyRemediationCommands: a network written before a modify
// assignment lacks its tag; `steward policy remediation create` as the
// assignment's identity (Contributor on the group) tags it, show, list
// and deployments report it, cancel of the ended remediation is refused,
// and bad input exits 2.
func TestPolicyRemediationCommands(t *testing.T) {
	dir, s := serveCloud(t, serveServices(policyproviderOptions{}, nil)...)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	rg := sub + "/resourceGroups/net"
	vnet := rg + "/providers/Microsoft.Network/virtualNetworks/vnet1"
	run := func(args ...string) (string, string, int) {
		out, err := runCLI(t, append(args, "--data", dir)...)
		msg, code := classifyError(err)
		return out, msg, code
	}
	must := func(args ...string) string {
		t.Helper()
		out, msg, code := run(args...)
		if code != exitOK {
			t.Fatalf("steward %s: exit %d\n%s%s", strings.Join(args, " "), code, out, msg)
		}
		return out
	}
	must("group", "create", "net", "-l", "westeurope")
	must("resource", "create", vnet, "-l", "westeurope", "--properties", `{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]}}`)
	must("policy", "definition", "create", "env-tag", "--mode", "Indexed", "--rules", "../../examples/remediation/env-tag.rules.json")
	out := must("policy", "assignment", "create", "env-tag", "--policy", "env-tag", "--scope", rg, "--system-identity", "--location", "westeurope", "-o", "json")
	var a struct {
		Identity struct {
			PrincipalID string `json:"principalId"`
		} `json:"identity"`
	}
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.Identity.PrincipalID == "" {
		t.Fatalf("assignment: %v\n%s", err, out)
	}
	must("role", "assignment", "create", "--assignee", a.Identity.PrincipalID, "--assignee-principal-type", "ServicePrincipal",
		"--role", "Contributor", "--scope", rg)
	out = must("policy", "remediation", "create", "tag-env", "--policy-assignment", rg+"/providers/Microsoft.Authorization/policyAssignments/env-tag",
		"--scope", rg, "--resource-discovery-mode", "ReEvaluateCompliance")
	if !strings.Contains(out, "Succeeded") || !strings.Contains(out, "1/1/0") {
		t.Errorf("create:\n%s", out)
	}
	if out := must("resource", "show", vnet, "-o", "json"); !strings.Contains(out, `"env": "prod"`) {
		t.Errorf("the network after the remediation:\n%s", out)
	}
	if out := must("policy", "remediation", "show", "tag-env", "--scope", rg, "-o", "json"); !strings.Contains(out, `"provisioningState": "Succeeded"`) ||
		!strings.Contains(out, `"successfulDeployments": 1`) {
		t.Errorf("show:\n%s", out)
	}
	// --no-wait answers with the remediation as accepted.
	if out := must("policy", "remediation", "create", "again", "--policy-assignment", rg+"/providers/Microsoft.Authorization/policyAssignments/env-tag",
		"--scope", rg, "--no-wait"); !strings.Contains(out, "Accepted") {
		t.Errorf("create --no-wait:\n%s", out)
	}
	if out := must("policy", "remediation", "list", "--scope", rg); !strings.Contains(out, "tag-env") {
		t.Errorf("list:\n%s", out)
	}
	if out := must("policy", "remediation", "deployments", "tag-env", "--scope", rg); !strings.Contains(out, "vnet1") || !strings.Contains(out, "Succeeded") {
		t.Errorf("deployments:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"policy", "remediation", "cancel", "tag-env", "--scope", rg}, exitUsage, "InvalidCancelRemediationRequest"},
		{[]string{"policy", "remediation", "create", "x", "--scope", rg}, exitUsage, "--policy-assignment"},
		{[]string{"policy", "remediation", "create", "x", "--policy-assignment", "nope", "--scope", rg}, exitUsage, "PolicyAssignmentNotFound"},
		{[]string{"policy", "remediation", "create", "x", "--policy-assignment", "env-tag", "--resource-discovery-mode", "Sometimes"}, exitUsage, "ReEvaluateCompliance"},
		{[]string{"policy", "remediation", "show", "absent", "--scope", rg}, exitNo, "NotFound"},
	} {
		out, msg, code := run(c.args...)
		if code != c.code || !strings.Contains(out+msg, c.want) {
			t.Errorf("steward %s: exit %d, want %d with %q\n%s%s", strings.Join(c.args, " "), code, c.code, c.want, out, msg)
		}
	}
}
