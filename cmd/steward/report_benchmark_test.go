package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/server"
)

// TestReportBenchmarkAssignsAndReportsPerControl assigns the Microsoft
// cloud security benchmark from the built-in corpus in one command,
// evaluates a subscription holding an NSG that opens SSH to the Internet
// and reports all 85 controls.
func TestReportBenchmarkAssignsAndReportsPerControl(t *testing.T) {
	const builtins = "../../../shared/corpus/azure-policy/built-in-policies"
	if _, err := os.Stat(builtins + "/policySetDefinitions/Security Center/AzureSecurityCenter.json"); err != nil {
		t.Skipf("built-in corpus not found (run scripts/fetch-conformance.sh): %v", err)
	}
	dir, s := serveCloud(t, server.CloudService(registerProviders(policyproviderOptions{builtins: builtins})))
	run := func(args ...string) (string, int) {
		t.Helper()
		out, err := runCLI(t, append(args, "--data", dir)...)
		code := 0
		if ex, ok := err.(*exitError); ok {
			code = ex.code
		} else if err != nil {
			t.Fatalf("steward %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out, code
	}
	if out, code := run("group", "create", "app", "--location", "westeurope"); code != 0 {
		t.Fatal(out)
	}
	nsg := "/subscriptions/" + s.Bootstrap.SubscriptionID + "/resourceGroups/app/providers/Microsoft.Network/networkSecurityGroups/open"
	if out, code := run("resource", "create", nsg, "-l", "westeurope", "--properties",
		`{"securityRules":[{"name":"ssh","properties":{"priority":100,"direction":"Inbound","access":"Allow","protocol":"Tcp","sourceAddressPrefix":"*","sourcePortRange":"*","destinationAddressPrefix":"*","destinationPortRange":"22"}}]}`); code != 0 {
		t.Fatal(out)
	}
	// Not assigned yet: a clear "no".
	if out, code := run("report", "benchmark", "--no-evaluate"); code == 0 {
		t.Errorf("benchmark without an assignment succeeded:\n%s", out)
	}
	out, code := run("report", "benchmark", "--assign", "-o", "json")
	var controls []struct{ Control, Domain, State string }
	if err := json.Unmarshal([]byte(out), &controls); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(controls) != 85 {
		t.Fatalf("%d controls, want 85", len(controls))
	}
	failed := 0
	for _, c := range controls {
		switch c.State {
		case "Failed":
			failed++
		case "Passed", "Skipped":
		default:
			t.Errorf("control %s: state %q", c.Control, c.State)
		}
		if c.Domain == "" {
			t.Errorf("control %s has no domain", c.Control)
		}
	}
	t.Logf("%d of %d controls failed", failed, len(controls))
	if (failed > 0) != (code == 1) {
		t.Errorf("%d failed controls but exit %d", failed, code)
	}
	// The assignment is kept: the next run reads it without --assign.
	if out, code2 := run("report", "benchmark", "--no-evaluate", "-o", "csv"); code2 != code || !strings.HasPrefix(out, "CONTROL,DOMAIN,STATE") {
		t.Errorf("second run: exit %d\n%s", code2, out)
	}
}
