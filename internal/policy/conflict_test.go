package policy

import (
	"context"
	"strings"
	"testing"
	"time"
)

// tagWriter is a definition whose then block is given by the test; its if
// matches every storage account.
func tagWriter(t *testing.T, name, then string) *Assigned {
	t.Helper()
	defID := "/providers/Microsoft.Authorization/policyDefinitions/" + name
	def := `{"name":"` + name + `","properties":{"mode":"Indexed","policyRule":{"if":{"field":"type",
		"equals":"Microsoft.Storage/storageAccounts"},"then":` + then + `}}}`
	a, err := ParseAssignment([]byte(`{"id":"` + testSub + `/providers/Microsoft.Authorization/policyAssignments/` + name + `",
		"properties":{"policyDefinitionId":"` + defID + `"}}`))
	if err != nil {
		t.Fatal(err)
	}
	x, err := CompileAssignment(a, Resolvers{Definition: func(string) (*Definition, error) {
		return ParseDefinition([]byte(def))
	}}, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func appendTag(value string) string {
	return `{"effect":"append","details":[{"field":"tags['env']","value":"` + value + `"}]}`
}

func modifyTag(op, field, value, conflictEffect string) string {
	ce := ""
	if conflictEffect != "" {
		ce = `"conflictEffect":"` + conflictEffect + `",`
	}
	return `{"effect":"modify","details":{` + ce + `"roleDefinitionIds":["/r"],"operations":[{"operation":"` + op +
		`","field":"` + field + `","value":"` + value + `"}]}}`
}

func TestMarkConflicts(t *testing.T) {
	tests := []struct {
		name  string
		thens []string
		want  []ComplianceState // per assignment, after MarkConflicts
	}{
		{"two appends of one tag with different values conflict",
			[]string{appendTag("prod"), appendTag("dev")}, []ComplianceState{StateConflicting, StateConflicting}},
		{"two appends of the same value agree",
			[]string{appendTag("prod"), appendTag("prod")}, []ComplianceState{StateNonCompliant, StateNonCompliant}},
		{"tag spellings name one tag",
			[]string{modifyTag("addOrReplace", "tags.ENV", "a", ""), modifyTag("addOrReplace", "tags['env']", "b", "")},
			[]ComplianceState{StateConflicting, StateConflicting}},
		{"modify values compare loosely",
			[]string{modifyTag("addOrReplace", "tags.env", "Prod", ""), modifyTag("add", "tags['env']", "prod", "")},
			[]ComplianceState{StateNonCompliant, StateNonCompliant}},
		{"only one deny among conflicting modifies stays NonCompliant",
			[]string{modifyTag("addOrReplace", "tags.env", "a", "deny"), modifyTag("addOrReplace", "tags.env", "b", "audit")},
			[]ComplianceState{StateNonCompliant, StateNonCompliant}},
		{"two denies conflict and the audit one does not",
			[]string{modifyTag("addOrReplace", "tags.env", "a", ""), modifyTag("addOrReplace", "tags.env", "b", "Deny"),
				modifyTag("addOrReplace", "tags.env", "c", "audit")},
			[]ComplianceState{StateConflicting, StateConflicting, StateNonCompliant}},
		{"remove against a set conflicts",
			[]string{`{"effect":"modify","details":{"roleDefinitionIds":["/r"],"operations":[{"operation":"remove","field":"tags.env"}]}}`,
				appendTag("prod")},
			[]ComplianceState{StateConflicting, StateConflicting}},
		{"different fields do not conflict",
			[]string{modifyTag("addOrReplace", "tags.env", "a", ""), modifyTag("addOrReplace", "tags.owner", "b", "")},
			[]ComplianceState{StateNonCompliant, StateNonCompliant}},
		{"adding array members does not conflict",
			[]string{`{"effect":"append","details":[{"field":"properties.rules[*]","value":"a"}]}`,
				`{"effect":"append","details":[{"field":"properties.rules[*]","value":"b"}]}`},
			[]ComplianceState{StateNonCompliant, StateNonCompliant}},
		{"an operation with a condition is left out",
			[]string{modifyTag("addOrReplace", "tags.env", "a", ""),
				`{"effect":"modify","details":{"roleDefinitionIds":["/r"],"operations":[{"operation":"addOrReplace","field":"tags.env","value":"b","condition":"[equals(1, 1)]"}]}}`},
			[]ComplianceState{StateNonCompliant, StateNonCompliant}},
		{"audit and deny effects never conflict",
			[]string{`{"effect":"audit"}`, `{"effect":"deny"}`}, []ComplianceState{StateNonCompliant, StateNonCompliant}},
	}
	res := NewResource(Normalize(map[string]any{
		"id":   testSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa",
		"type": "Microsoft.Storage/storageAccounts", "name": "sa", "location": "westeurope",
	}).(map[string]any))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var results []AssignmentResult
			for i, then := range tt.thens {
				x := tagWriter(t, "d"+itoa(i), then)
				results = append(results, x.Evaluate(context.Background(), res, nil, time.Now(), EvalOptions{}))
			}
			for i, r := range results {
				if r.State != StateNonCompliant {
					t.Fatalf("assignment %d is %s before MarkConflicts, want NonCompliant", i, r.State)
				}
			}
			MarkConflicts(results)
			for i, r := range results {
				if r.State != tt.want[i] {
					t.Errorf("assignment %d: %s, want %s", i, r.State, tt.want[i])
				}
				m := r.Members[0]
				if conflicting := m.State == StateConflicting; conflicting != (len(m.ConflictsWith) > 0) {
					t.Errorf("assignment %d: state %s with conflictsWith %q", i, m.State, m.ConflictsWith)
				}
				for _, c := range m.ConflictsWith {
					if strings.HasPrefix(c, r.AssignmentID+":") {
						t.Errorf("assignment %d conflicts with itself: %q", i, c)
					}
				}
			}
		})
	}
}

func TestConflictingInTheRollup(t *testing.T) {
	tests := []struct {
		name    string
		results []AssignmentResult
		want    ComplianceState
	}{
		{"conflicting loses to compliant", []AssignmentResult{
			{Applicable: true, State: StateConflicting}, {Applicable: true, State: StateCompliant}}, StateCompliant},
		{"conflicting wins over exempt", []AssignmentResult{
			{Applicable: true, State: StateExempt}, {Applicable: true, State: StateConflicting}}, StateConflicting},
		{"error wins over conflicting", []AssignmentResult{
			{Applicable: true, State: StateConflicting}, {Applicable: true, State: StateError}}, StateError},
		{"assignments that do not apply are ignored", []AssignmentResult{
			{Applicable: false, State: StateNotApplicable}, {Applicable: true, State: StateConflicting}}, StateConflicting},
		{"nothing applies", []AssignmentResult{{State: StateNotApplicable}}, StateNotApplicable},
		{"only disabled members", []AssignmentResult{{Applicable: true, State: StateNotStarted}}, StateNotStarted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ResourceState(tt.results); got != tt.want {
				t.Errorf("ResourceState = %s, want %s", got, tt.want)
			}
		})
	}
	var s Summary
	for _, st := range []ComplianceState{StateCompliant, StateConflicting, StateConflicting, StateExempt} {
		s.Add(st)
	}
	if got := s.Percentage(); got != 50 {
		t.Errorf("percentage %v with two conflicting of four, want 50", got)
	}
}
