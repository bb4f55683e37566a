package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/policy"
)

const examples = "../../../examples/scan"

var exampleNow = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

func exampleParams(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examples, "parameters.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.ParseParameterValues(data)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// scanJSON scans an estate file with the JSON sink and returns the
// report and the decoded output.
func scanJSON(t *testing.T, estate string, in Policies, workers int) (*Report, jsonOutput) {
	t.Helper()
	plan, err := LoadPlan(in)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	rep, err := Run(context.Background(), FileEstate(estate), plan, Config{Now: exampleNow, Workers: workers}, &JSONSink{Out: &buf})
	if err != nil {
		t.Fatal(err)
	}
	var out jsonOutput
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatalf("JSON output does not parse: %v\n%s", err, buf.String())
	}
	return rep, out
}

type jsonOutput struct {
	Findings  []Finding       `json:"findings"`
	Changes   []DiffEntry     `json:"changes"`
	Malformed []malformedJSON `json:"malformedRecords"`
	Summary   Report          `json:"summary"`
}

func (o jsonOutput) policy(t *testing.T, assignment string) PolicySummary {
	t.Helper()
	for _, a := range o.Summary.Assignments {
		if a.Name == assignment {
			return a.Policies[0]
		}
	}
	t.Fatalf("no assignment %s in %+v", assignment, o.Summary.Assignments)
	return PolicySummary{}
}

func (o jsonOutput) finding(resource, assignment string) *Finding {
	for i := range o.Findings {
		f := &o.Findings[i]
		if strings.HasSuffix(f.ResourceID, resource) && f.AssignmentName == assignment {
			return f
		}
	}
	return nil
}

func examplePolicies(t *testing.T) Policies {
	return Policies{PolicyPaths: []string{filepath.Join(examples, "policies")}, Defaults: Defaults{Parameters: exampleParams(t)}}
}

func TestScanExampleCounts(t *testing.T) {
	_, out := scanJSON(t, filepath.Join(examples, "estate.json"), examplePolicies(t), 2)
	tests := []struct {
		assignment              string
		compliant, nonCompliant int64
		denied                  int64
		nonCompliantResource    string
		effect, nextWriteAction string
	}{
		{"storage-https", 1, 1, 1, "/legacylogs", "deny", "deny"},
		{"allowed-locations", 3, 1, 1, "/legacylogs", "deny", "deny"},
		{"require-env-tag", 3, 1, 0, "/legacylogs", "modify", "modify"},
		{"storage-network-default-deny", 1, 1, 1, "/legacylogs", "append", "append"},
		{"rg-owner-tag", 1, 1, 0, "/resourceGroups/data-rg", "audit", "none"},
		{"sql-auditing", 1, 1, 0, "/sql-b", "auditIfNotExists", "none"},
		{"location-matches-rg", 2, 2, 0, "/sql-b", "audit", "none"},
	}
	for _, tc := range tests {
		t.Run(tc.assignment, func(t *testing.T) {
			p := out.policy(t, tc.assignment)
			if p.Resources.Compliant != tc.compliant || p.Resources.NonCompliant != tc.nonCompliant || p.Denied != tc.denied {
				t.Errorf("counts %+v denied %d, want %d compliant, %d non-compliant, %d denied", p.Resources, p.Denied, tc.compliant, tc.nonCompliant, tc.denied)
			}
			f := out.finding(tc.nonCompliantResource, tc.assignment)
			if f == nil {
				t.Fatalf("no finding for %s", tc.nonCompliantResource)
			}
			if f.Effect != tc.effect || f.NextWrite == nil || f.NextWrite.Action != tc.nextWriteAction {
				t.Errorf("finding effect %s, next write %+v; want %s, %s", f.Effect, f.NextWrite, tc.effect, tc.nextWriteAction)
			}
			if len(f.EvaluatedExpressions) == 0 || f.Reason == "" {
				t.Errorf("finding has no explanation: %+v", f)
			}
		})
	}
	if o := out.Summary.Overall; o.Compliant != 3 || o.NonCompliant != 3 || o.State != policy.StateNonCompliant || o.Percent != 50 {
		t.Errorf("overall %+v", o)
	}
}

func TestScanDescribesWrites(t *testing.T) {
	_, out := scanJSON(t, filepath.Join(examples, "estate.json"), examplePolicies(t), 1)
	mod := out.finding("/legacylogs", "require-env-tag").NextWrite
	if len(mod.Changes) != 1 || mod.Changes[0].Field != "tags['env']" || mod.Changes[0].Value != "unassigned" || mod.Changes[0].Current != nil {
		t.Errorf("modify changes %+v", mod.Changes)
	}
	app := out.finding("/legacylogs", "storage-network-default-deny").NextWrite
	if !app.Denied || len(app.Changes) != 1 || app.Changes[0].Current != "Allow" || app.Changes[0].Value != "Deny" {
		t.Errorf("append that changes a value must be denied: %+v", app)
	}
}

func TestScanIsTheSameForEveryInputFormat(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(examples, "estate.json"))
	if err != nil {
		t.Fatal(err)
	}
	var docs []json.RawMessage
	if err := json.Unmarshal(data, &docs); err != nil {
		t.Fatal(err)
	}
	var lines, page1, page2, lower bytes.Buffer
	for i, d := range docs {
		// Resource Graph spells types in lower case
		var m map[string]any
		_ = json.Unmarshal(d, &m)
		m["type"] = strings.ToLower(m["type"].(string))
		lc, _ := json.Marshal(m)
		lower.Write(append(lc, '\n'))
		var c bytes.Buffer
		_ = json.Compact(&c, d)
		lines.Write(append(c.Bytes(), '\n'))
		pg := &page1
		if i >= len(docs)/2 {
			pg = &page2
		}
		if pg.Len() > 0 {
			pg.WriteString(",")
		}
		pg.Write(c.Bytes())
	}
	dir := t.TempDir()
	inputs := map[string]string{
		"jsonl":            lines.String(),
		"graph page":       `{"count": 9, "data": [` + page1.String() + `,` + page2.String() + `], "skip_token": null}`,
		"graph pages":      "{\n\"data\": [" + page1.String() + "],\n\"$skipToken\": \"t\"\n}\n{\n\"data\": [" + page2.String() + "]\n}\n",
		"array of pages":   `[{"data": [` + page1.String() + `]}, {"data": [` + page2.String() + `]}]`,
		"lower-case types": lower.String(),
	}
	want, wantOut := scanJSON(t, filepath.Join(examples, "estate.json"), examplePolicies(t), 1)
	for name, content := range inputs {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, out := scanJSON(t, path, examplePolicies(t), 2)
			if got.Resources != want.Resources || got.Overall != want.Overall || len(out.Findings) != len(wantOut.Findings) {
				t.Errorf("got %d resources, overall %+v, %d findings; want %d, %+v, %d", got.Resources, got.Overall,
					len(out.Findings), want.Resources, want.Overall, len(wantOut.Findings))
			}
		})
	}
}

func TestScanFindingsFollowEstateOrder(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 3000 {
		b.WriteString(res("s"+itoa(i)) + "\n")
	}
	path := filepath.Join(dir, "estate.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	in := Policies{PolicyPaths: []string{filepath.Join(examples, "policies", "storage-https.json")}}
	_, out := scanJSON(t, path, in, 4)
	if len(out.Findings) != 3000 {
		t.Fatalf("%d findings, want 3000", len(out.Findings))
	}
	for i, f := range out.Findings {
		if !strings.HasSuffix(f.ResourceID, "/s"+itoa(i)) {
			t.Fatalf("finding %d is %s: out of estate order", i, f.ResourceID)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestScanAssignmentSettings(t *testing.T) {
	v2 := filepath.Join(examples, "initiative", "v2.json")
	defs := []string{filepath.Join(examples, "policies")}
	base := func() Policies {
		return Policies{PolicyPaths: []string{v2}, DefinitionPaths: defs,
			AssignmentFiles: []string{filepath.Join(examples, "assignment.json")}}
	}
	tests := []struct {
		name   string
		adjust func(*Policies)
		// the https member's counts and the denied results
		compliant, nonCompliant, exempt, denied int64
	}{
		{"assignment file", func(*Policies) {}, 1, 1, 0, 1},
		{"exemption", func(p *Policies) { p.ExemptionFiles = []string{filepath.Join(examples, "exemption.json")} }, 1, 0, 1, 0},
		{"not scope", func(p *Policies) { p.Defaults.NotScopes = []string{subID + "/resourceGroups/app-rg"} }, 0, 0, 0, 0},
		{"do not enforce", func(p *Policies) { p.Defaults.EnforcementMode = "DoNotEnforce" }, 1, 1, 0, 0},
		{"scope elsewhere", func(p *Policies) { p.Defaults.Scope = "/subscriptions/other" }, 0, 0, 0, 0},
		{"management group scope", func(p *Policies) { p.Defaults.Scope = "/providers/Microsoft.Management/managementGroups/root" }, 1, 1, 0, 1},
		{"parameters override the file", func(p *Policies) { p.Defaults.Parameters = map[string]any{"storageEffect": "Audit"} }, 1, 1, 0, 0},
		{"resource selector", func(p *Policies) {
			p.AssignmentFiles = []string{assignmentWith(t, `"resourceSelectors": [{"name": "eu", "selectors": [{"kind": "resourceLocation", "in": ["westeurope"]}]}]`)}
		}, 1, 0, 0, 0},
		{"effect override", func(p *Policies) {
			p.AssignmentFiles = []string{assignmentWith(t, `"overrides": [{"kind": "policyEffect", "value": "Audit", "selectors": [{"kind": "policyDefinitionReferenceId", "in": ["https"]}]}]`)}
		}, 1, 1, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.adjust(&in)
			rep, out := scanJSON(t, filepath.Join(examples, "estate.json"), in, 2)
			https := out.Summary.Assignments[0].Policies[0]
			if https.ReferenceID != "https" {
				t.Fatalf("first member %s", https.ReferenceID)
			}
			r := https.Resources
			if r.Compliant != tc.compliant || r.NonCompliant != tc.nonCompliant || r.Exempt != tc.exempt || rep.Denied != tc.denied {
				t.Errorf("https %+v, denied %d; want %d/%d/%d, denied %d", r, rep.Denied, tc.compliant, tc.nonCompliant, tc.exempt, tc.denied)
			}
		})
	}
}

// assignmentWith writes the example assignment with extra properties.
func assignmentWith(t *testing.T, props string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examples, "assignment.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), `"properties": {`, `"properties": {`+props+`,`, 1)
	path := filepath.Join(t.TempDir(), "assignment.json")
	writeFile(t, path, s)
	return path
}

func TestScanDefaultAssignmentsSkipRequiredParameters(t *testing.T) {
	in := Policies{PolicyPaths: []string{filepath.Join(examples, "policies")}}
	plan, err := LoadPlan(in)
	if err != nil {
		t.Fatal(err)
	}
	var skipped []string
	for _, p := range plan.Problems {
		skipped = append(skipped, p.Source+": "+p.Reason)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0], "allowed-locations") || !strings.Contains(skipped[0], "listOfAllowedLocations") {
		t.Errorf("skipped %q", skipped)
	}
	if len(plan.Targets) != 6 {
		t.Errorf("%d targets, want 6", len(plan.Targets))
	}
}

func TestScanDiff(t *testing.T) {
	in := Policies{DefinitionPaths: []string{filepath.Join(examples, "policies")}}
	plan, err := LoadDiffPlan(filepath.Join(examples, "initiative", "v1.json"), filepath.Join(examples, "initiative", "v2.json"), in)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	rep, err := RunDiff(context.Background(), FileEstate(filepath.Join(examples, "estate.json")), plan, Config{Now: exampleNow}, &JSONSink{Out: &buf})
	if err != nil {
		t.Fatal(err)
	}
	var out jsonOutput
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range out.Changes {
		got[c.ResourceID[strings.LastIndexByte(c.ResourceID, '/')+1:]] = string(c.Old) + " -> " + string(c.New)
	}
	want := map[string]string{"sql-a": "NotApplicable -> Compliant", "sql-b": "NotApplicable -> NonCompliant"}
	if len(got) != len(want) || got["sql-a"] != want["sql-a"] || got["sql-b"] != want["sql-b"] {
		t.Errorf("changes %v, want %v", got, want)
	}
	if rep.Regressions != 1 || rep.Changed != 2 {
		t.Errorf("regressions %d, changed %d", rep.Regressions, rep.Changed)
	}
}

func TestScanReportsMalformedRecordsAndScansTheRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "estate.json")
	content := "[\n" + res("a") + ",\n{\"id\": 1},\n{broken},\n" + res("b") + "\n]"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	in := Policies{PolicyPaths: []string{filepath.Join(examples, "policies", "storage-https.json")}}
	rep, out := scanJSON(t, path, in, 2)
	if rep.Resources != 2 || rep.Malformed != 2 || len(out.Findings) != 2 {
		t.Fatalf("resources %d, malformed %d, findings %d", rep.Resources, rep.Malformed, len(out.Findings))
	}
	if out.Malformed[0].Source != "$[1] (line 3)" || out.Malformed[1].Line != 4 || !strings.Contains(out.Malformed[1].Error, "invalid JSON") {
		t.Errorf("malformed %+v", out.Malformed)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
