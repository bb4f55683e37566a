package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/server"
)

// TestReportAccessAndRogue seeds a subscription through the CLI (a group,
// a template deployment, a hand-made NSG, two role assignments nobody
// uses) and checks both reports' answers, read back through the Azure SDK.
func TestReportAccessAndRogue(t *testing.T) {
	dir, s := serveCloud(t, server.CloudService(registerProviders(policyproviderOptions{})))
	_, must := cliOn(t, dir)
	must("group", "create", "app", "--location", "westeurope")
	must("deployment", "create", "net", "-g", "app", "--template-file", "../../examples/templates/network.json")
	var dep struct {
		Properties struct{ TemplateHash string }
	}
	if err := json.Unmarshal([]byte(must("deployment", "show", "net", "-g", "app", "-o", "json")), &dep); err != nil || dep.Properties.TemplateHash == "" {
		t.Fatalf("deployment show: %v %+v", err, dep)
	}
	sub := s.Bootstrap.SubscriptionID
	handMade := "/subscriptions/" + sub + "/resourceGroups/app/providers/Microsoft.Network/networkSecurityGroups/by-hand"
	must("resource", "create", handMade, "--location", "westeurope", "--properties", `{"securityRules":[]}`)
	reader, contributor := uuid.NewString(), uuid.NewString()
	must("role", "assignment", "create", "--assignee", reader, "--role", "Reader", "--scope", "/subscriptions/"+sub+"/resourceGroups/app")
	must("role", "assignment", "create", "--assignee", contributor, "--role", "Contributor", "--scope", "/subscriptions/"+sub+"/resourceGroups/app")

	type finding struct {
		Kind, Severity, ResourceID, Message string
		Details                             map[string]any
	}
	report := func(wantExit int, args ...string) []finding {
		t.Helper()
		out, err := runCLI(t, append(append([]string{"report"}, args...), "-o", "json", "--data", dir)...)
		code := 0
		if ex, ok := err.(*exitError); ok {
			code = ex.code
		} else if err != nil {
			t.Fatalf("report %v: %v\n%s", args, err, out)
		}
		if code != wantExit {
			t.Fatalf("report %v: exit %d, want %d\n%s", args, code, wantExit, out)
		}
		var got []finding
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return got
	}

	// Access: the two unused assignments; the administrator's Owner is
	// used (writes, a deployment, role assignments) and no narrower
	// built-in role covers all of it.
	got := map[string]string{}
	for _, f := range report(1, "access", "--days", "1") {
		p, _ := f.Details["principalId"].(string)
		got[p] = f.Kind + " " + f.Severity
	}
	if len(got) != 2 || got[reader] != "UnusedRoleAssignment low" || got[contributor] != "UnusedRoleAssignment medium" {
		t.Errorf("access findings: %v", got)
	}
	if out, err := runCLI(t, "report", "access", "--days", "91", "--data", dir); err == nil {
		t.Errorf("--days 91 accepted:\n%s", out)
	}

	// Rogue: only the hand-made NSG was created outside the approved
	// template; naming the administrator as a pipeline approves it too.
	rogue := report(1, "rogue", "--template-hash", dep.Properties.TemplateHash, "--pipeline", "ci-app")
	if len(rogue) != 1 || rogue[0].Kind != "RogueResource" || !strings.EqualFold(rogue[0].ResourceID, handMade) {
		t.Errorf("rogue findings: %+v", rogue)
	}
	if got := report(0, "rogue", "--template-hash", dep.Properties.TemplateHash, "--pipeline", s.Bootstrap.ObjectID); len(got) != 0 {
		t.Errorf("with the administrator approved: %+v", got)
	}
	if out, err := runCLI(t, "report", "rogue", "--data", dir); err == nil {
		t.Errorf("rogue without approved paths ran:\n%s", out)
	}

	// SARIF: one result per finding, at the resource.
	out, _ := runCLI(t, "report", "rogue", "--template-hash", dep.Properties.TemplateHash, "--pipeline", "ci-app", "-o", "sarif", "--data", dir)
	var sarif struct {
		Version string
		Runs    []struct {
			Results []struct {
				RuleID, Level string
				Locations     []struct {
					LogicalLocations []struct{ FullyQualifiedName string }
				}
				PartialFingerprints map[string]string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &sarif); err != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) != 1 {
		t.Fatalf("sarif: %v\n%s", err, out)
	}
	r := sarif.Runs[0].Results[0]
	if r.RuleID != "rogue/RogueResource" || r.Level != "error" || !strings.EqualFold(r.Locations[0].LogicalLocations[0].FullyQualifiedName, handMade) || r.PartialFingerprints["stewardFinding/v1"] == "" {
		t.Errorf("sarif result: %+v", r)
	}
	csv, _ := runCLI(t, "report", "access", "--days", "1", "-o", "csv", "--data", dir)
	if lines := strings.Split(strings.TrimSpace(csv), "\n"); len(lines) != 3 || lines[0] != "SEVERITY,KIND,RESOURCE,FINDING" {
		t.Errorf("csv:\n%s", csv)
	}
}
