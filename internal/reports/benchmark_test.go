package reports

import (
	"encoding/json"
	"os"
	"testing"
)

func TestBenchmarkReportsPerControl(t *testing.T) {
	b, err := os.ReadFile("../../../shared/corpus/azure-policy/built-in-policies/policySetDefinitions/Security Center/AzureSecurityCenter.json")
	if err != nil {
		t.Skipf("built-in corpus not found (run scripts/fetch-conformance.sh): %v", err)
	}
	var set map[string]any
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	if id, _ := set["id"].(string); id != MCSBInitiativeID {
		t.Fatalf("the corpus file is %s, not the benchmark", id)
	}
	controls, findings := Benchmark("/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/mcsb", set, map[string]GroupCounts{
		"Azure_Security_Benchmark_v3.0_NS-2": {NonCompliantResources: 2, NonCompliantPolicies: 1, CompliantResources: 3},
		"azure_security_benchmark_v3.0_dp-3": {CompliantResources: 4},
	})
	if len(controls) != 85 {
		t.Fatalf("%d controls, want the initiative's 85 groups", len(controls))
	}
	states := map[string]ControlResult{}
	for _, c := range controls {
		states[c.Control] = c
	}
	if c := states["NS-2"]; c.State != ControlFailed || c.Domain != "Network Security" || c.Policies == 0 {
		t.Errorf("NS-2: %+v", c)
	}
	if c := states["DP-3"]; c.State != ControlPassed || c.Domain != "Data Protection" {
		t.Errorf("DP-3: %+v", c)
	}
	if c := states["GS-1"]; c.State != ControlSkipped {
		t.Errorf("GS-1 (no counts): %+v", c)
	}
	if len(findings) != 1 || findings[0].Details["control"] != "NS-2" {
		t.Errorf("findings: %+v", findings)
	}
}
