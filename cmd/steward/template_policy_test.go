package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sarifResults decodes the results of a SARIF log: rule, policy
// definition, file and line of each.
type sarifResult struct {
	RuleID, Assignment, Effect, URI, Resource string
	Line                                      int
}

func sarifResults(t *testing.T, out string) []sarifResult {
	t.Helper()
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID     string         `json:"ruleId"`
				Properties map[string]any `json:"properties"`
				Locations  []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
						Region           struct{ StartLine int } `json:"region"`
					} `json:"physicalLocation"`
					LogicalLocations []struct {
						Name string `json:"fullyQualifiedName"`
					} `json:"logicalLocations"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	// The summary line follows the SARIF document on stdout.
	if i := strings.LastIndex(out, "}"); i >= 0 {
		out = out[:i+1]
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil || len(log.Runs) != 1 {
		t.Fatalf("SARIF: %v\n%s", err, out)
	}
	var rs []sarifResult
	for _, r := range log.Runs[0].Results {
		s := sarifResult{RuleID: r.RuleID}
		s.Assignment, _ = r.Properties["policyAssignmentId"].(string)
		s.Effect, _ = r.Properties["effect"].(string)
		if len(r.Locations) > 0 {
			l := r.Locations[0]
			s.URI, s.Line = l.PhysicalLocation.ArtifactLocation.URI, l.PhysicalLocation.Region.StartLine
			if len(l.LogicalLocations) > 0 {
				s.Resource = l.LogicalLocations[0].Name
			}
		}
		rs = append(rs, s)
	}
	return rs
}

// TestTemplateCheckPolicyAndAssignment checks templates against a
// definition of the user's (--policy) and an assignment of it
// (--assignment): the exit status is 1 with a SARIF result on the
// offending resource's line when the assigned policy denies, 0 when the
// resource complies or the assignment's scope does not cover the
// deployment, and 2 when a policy or assignment file cannot be read.
func TestTemplateCheckPolicyAndAssignment(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const def = "../../examples/scan/policies/storage-https.json"
	// Two storage accounts; the second (line 6) allows HTTP.
	plain := storageRes(secureStorage, "")
	insecure := strings.Replace(storageRes(`{"supportsHttpsTrafficOnly": false}`, ""), `"st1"`, `"st2"`, 1)
	bad := write("bad.json", baselineTemplate(plain, insecure))
	good := write("good.json", baselineTemplate(plain))
	assign := func(name, scope, effect string) string {
		return write(name+".json", `{"name": "`+name+`", "properties": {"scope": "`+scope+`",
			"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/storage-https",
			"parameters": {"effect": {"value": "`+effect+`"}}}}`)
	}
	here := assign("here", "/subscriptions/00000000-0000-0000-0000-000000000001", "Deny")
	audit := assign("audit", "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/app-rg", "Audit")
	disabled := assign("disabled", "/subscriptions/00000000-0000-0000-0000-000000000001", "Disabled")
	brokenAssignment := write("broken-assignment.json", `{"properties": {"scope": `)
	target := []string{"--subscription", "00000000-0000-0000-0000-000000000001", "--resource-group", "app-rg"}

	cases := []struct {
		name string
		args []string
		exit int
		// The SARIF result when exit is 1: the assignment's name and
		// effect (the result is always st2, on line 6).
		assignment, effect string
	}{
		{"policy denies", []string{bad, "--policy", def}, 1, "storage-https", "deny"},
		{"policy passes", []string{good, "--policy", def}, 0, "", ""},
		{"assignment denies", append([]string{bad, "--definitions", def, "--assignment", here}, target...), 1, "here", "deny"},
		{"audit assignment is non-compliance", append([]string{bad, "--definitions", def, "--assignment", audit}, target...), 1, "audit", "audit"},
		{"assignment passes", append([]string{good, "--definitions", def, "--assignment", here}, target...), 0, "", ""},
		{"disabled assignment", append([]string{bad, "--definitions", def, "--assignment", disabled}, target...), 0, "", ""},
		{"assignment out of scope", []string{bad, "--definitions", def, "--assignment", here, "--subscription", "00000000-0000-0000-0000-000000000002"}, 0, "", ""},
		{"missing policy file", []string{bad, "--policy", filepath.Join(dir, "nope.json")}, 2, "", ""},
		{"broken assignment", []string{bad, "--definitions", def, "--assignment", brokenAssignment}, 2, "", ""},
		{"missing assignment file", []string{bad, "--definitions", def, "--assignment", filepath.Join(dir, "nope.json")}, 2, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := runCLI(t, append([]string{"template", "check", "-o", "sarif"}, c.args...)...)
			if _, code := classifyError(err); code != c.exit {
				t.Fatalf("exit %d (%v), want %d\n%s", code, err, c.exit, out)
			}
			if c.exit != 1 {
				return
			}
			rs := sarifResults(t, out)
			if len(rs) != 1 {
				t.Fatalf("want one SARIF result (st2), got %+v", rs)
			}
			r := rs[0]
			if r.RuleID != "storage-https" || r.Line != 6 || filepath.Base(r.URI) != "bad.json" || !strings.HasSuffix(r.Resource, "/storageAccounts/st2") {
				t.Errorf("result = %+v, want rule storage-https on st2 at bad.json:6", r)
			}
			if !strings.HasSuffix(r.Assignment, "/policyAssignments/"+c.assignment) || r.Effect != c.effect {
				t.Errorf("result's assignment and effect = %s %s, want %s %s", r.Assignment, r.Effect, c.assignment, c.effect)
			}
		})
	}
}
