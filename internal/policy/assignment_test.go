package policy

import (
	"context"
	"fmt"
	"testing"
	"time"
)

const (
	testSub   = "/subscriptions/00000000-0000-0000-0000-000000000001"
	tagDefID  = "/providers/Microsoft.Authorization/policyDefinitions/require-tag"
	locDefID  = "/providers/Microsoft.Authorization/policyDefinitions/allowed-locations"
	testSetID = "/providers/Microsoft.Authorization/policySetDefinitions/baseline"
)

var testDefs = map[string]string{
	tagDefID: `{"name":"require-tag","properties":{"mode":"Indexed","parameters":{"tagName":{"type":"String"},
		"effect":{"type":"String","defaultValue":"Audit"}},
		"policyRule":{"if":{"field":"[concat('tags[', parameters('tagName'), ']')]","exists":false},"then":{"effect":"[parameters('effect')]"}}}}`,
	locDefID: `{"name":"allowed-locations","properties":{"mode":"Indexed","parameters":{"allowed":{"type":"Array"}},
		"policyRule":{"if":{"field":"location","notIn":"[parameters('allowed')]"},"then":{"effect":"deny"}}}}`,
}

const testSet = `{"id":"` + testSetID + `","properties":{"parameters":{"tag":{"type":"String","defaultValue":"owner"},
	"locations":{"type":"Array"}},
	"policyDefinitionGroups":[{"name":"tagging","category":"Tags"}],
	"policyDefinitions":[
	{"policyDefinitionReferenceId":"tag","policyDefinitionId":"` + tagDefID + `","groupNames":["tagging"],
	 "parameters":{"tagName":{"value":"[parameters('tag')]"}}},
	{"policyDefinitionReferenceId":"loc","policyDefinitionId":"` + locDefID + `",
	 "parameters":{"allowed":{"value":"[parameters('locations')]"}}}]}}`

func testResolvers(t *testing.T) Resolvers {
	t.Helper()
	return Resolvers{
		Definition: func(id string) (*Definition, error) {
			src, ok := testDefs[id]
			if !ok {
				return nil, fmt.Errorf("no definition %s", id)
			}
			return ParseDefinition([]byte(src))
		},
		Set: func(id string) (*SetDefinition, error) { return ParseSetDefinition([]byte(testSet)) },
	}
}

func assignment(t *testing.T, props string) *Assignment {
	t.Helper()
	a, err := ParseAssignment([]byte(`{"id":"` + testSub + `/providers/Microsoft.Authorization/policyAssignments/a1",
		"properties":{"policyDefinitionId":"` + testSetID + `","parameters":{"locations":{"value":["westeurope"]}}` + props + `}}`))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func vmIn(rg, location string, tags map[string]any) *Resource {
	return NewResource(Normalize(map[string]any{
		"id":   testSub + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/vm1",
		"type": "Microsoft.Compute/virtualMachines", "name": "vm1", "location": location, "tags": tags,
	}).(map[string]any))
}

func TestAssignmentEvaluation(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	exemption, err := ParseExemption([]byte(`{"id":"` + testSub + `/resourceGroups/legacy/providers/Microsoft.Authorization/policyExemptions/e1",
		"properties":{"policyAssignmentId":"` + testSub + `/providers/Microsoft.Authorization/policyAssignments/a1",
		"exemptionCategory":"waiver","policyDefinitionReferenceIds":["loc"],"expiresOn":"2026-06-01T00:00:00Z"}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		props     string
		res       *Resource
		now       time.Time
		wantState ComplianceState
		wantByRef map[string]string // reference ID -> effect
	}{
		{"set parameters reach members", "", vmIn("app", "eastus", nil), now, StateNonCompliant,
			map[string]string{"tag": EffectAudit, "loc": EffectDeny}},
		{"compliant resource", "", vmIn("app", "westeurope", map[string]any{"owner": "me"}), now, StateCompliant,
			map[string]string{"tag": "", "loc": ""}},
		{"notScopes exclude", `,"notScopes":["` + testSub + `/resourceGroups/app"]`, vmIn("app", "eastus", nil), now, StateNotApplicable, nil},
		{"resource selectors", `,"resourceSelectors":[{"name":"eu","selectors":[{"kind":"resourceLocation","in":["westeurope"]}]}]`,
			vmIn("app", "eastus", nil), now, StateNotApplicable, nil},
		{"effect override by reference", `,"overrides":[{"kind":"policyEffect","value":"Disabled","selectors":[{"kind":"policyDefinitionReferenceId","in":["loc"]}]}]`,
			vmIn("app", "eastus", nil), now, StateNonCompliant, map[string]string{"tag": EffectAudit, "loc": ""}},
		// Compliant outranks Exempt in the documented roll-up.
		{"exemption covers one member", "", vmIn("legacy", "eastus", map[string]any{"owner": "x"}), now, StateCompliant,
			map[string]string{"tag": "", "loc": EffectDeny}},
		{"expired exemption", "", vmIn("legacy", "eastus", map[string]any{"owner": "x"}), now.AddDate(1, 0, 0), StateNonCompliant,
			map[string]string{"loc": EffectDeny}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := CompileAssignment(assignment(t, tt.props), testResolvers(t), CompileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := x.Evaluate(context.Background(), tt.res, []*Exemption{exemption}, tt.now, EvalOptions{})
			if got.State != tt.wantState {
				t.Errorf("state %s, want %s (%+v)", got.State, tt.wantState, got)
			}
			for _, m := range got.Members {
				if want, ok := tt.wantByRef[m.ReferenceID]; ok && m.Effect != want {
					t.Errorf("%s: effect %q, want %q", m.ReferenceID, m.Effect, want)
				}
				if tt.name == "exemption covers one member" && m.ReferenceID == "loc" && m.State != StateExempt {
					t.Errorf("loc: state %s, want Exempt", m.State)
				}
			}
		})
	}
}

func TestEnforcementModeAndMessages(t *testing.T) {
	a := assignment(t, `,"enforcementMode":"DoNotEnforce","nonComplianceMessages":[{"message":"general"},
		{"message":"use an EU region","policyDefinitionReferenceId":"loc"}]`)
	if a.Enforced() {
		t.Error("DoNotEnforce must not be enforced")
	}
	if a.Message("loc") != "use an EU region" || a.Message("tag") != "general" {
		t.Errorf("messages: %q %q", a.Message("loc"), a.Message("tag"))
	}
	if _, err := ParseAssignment([]byte(`{"properties":{"policyDefinitionId":"x","enforcementMode":"Sometimes"}}`)); err == nil {
		t.Error("an unknown enforcementMode must be an error")
	}
}

func TestRollup(t *testing.T) {
	tests := []struct {
		in   []ComplianceState
		want ComplianceState
	}{
		{[]ComplianceState{StateCompliant, StateNonCompliant, StateError}, StateNonCompliant},
		{[]ComplianceState{StateExempt, StateCompliant}, StateCompliant},
		{[]ComplianceState{StateUnknown, StateExempt, StateProtected}, StateProtected},
		{[]ComplianceState{StateConflicting, StateError}, StateError},
		{[]ComplianceState{StateNotStarted}, StateNotStarted},
		{nil, StateNotStarted},
	}
	for _, tt := range tests {
		if got := Rollup(tt.in...); got != tt.want {
			t.Errorf("Rollup(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
	var s Summary
	for _, st := range []ComplianceState{StateCompliant, StateCompliant, StateExempt, StateNonCompliant, StateNotStarted} {
		s.Add(st)
	}
	if got := s.Percentage(); got != 75 {
		t.Errorf("percentage %v, want 75", got)
	}
}

func TestApplicable(t *testing.T) {
	vm := resource(t, map[string]any{"type": "Microsoft.Compute/virtualMachines", "name": "vm1", "kind": "linux",
		"location": "westeurope", "properties": map[string]any{"x": 1}})
	sub := resource(t, map[string]any{"type": "Microsoft.Resources/subscriptions", "name": "s"})
	tests := []struct {
		name string
		rule string
		res  *Resource
		want bool
	}{
		{"type condition decides", `{"allOf":[{"field":"type","equals":"Microsoft.Storage/storageAccounts"},{"field":"properties.x","equals":2}]}`, vm, false},
		{"other conditions count as true", `{"allOf":[{"field":"type","equals":"Microsoft.Compute/virtualMachines"},{"field":"properties.x","equals":2}]}`, vm, true},
		{"negated other conditions count as false", `{"allOf":[{"field":"type","equals":"Microsoft.Compute/virtualMachines"},{"not":{"field":"properties.x","equals":1}}]}`, vm, true},
		{"only name conditions apply to all", `{"field":"name","equals":"other"}`, vm, true},
		{"type and name: only type is considered", `{"allOf":[{"field":"type","equals":"Microsoft.Compute/virtualMachines"},{"field":"name","equals":"other"}]}`, vm, true},
		{"type, kind and other: kind is considered", `{"allOf":[{"field":"type","equals":"Microsoft.Compute/virtualMachines"},{"field":"kind","equals":"windows"},{"field":"properties.x","equals":1}]}`, vm, false},
		{"location conditions exclude subscriptions", `{"field":"location","equals":"westeurope"}`, sub, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, `{"properties":{"mode":"All","policyRule":{"if":`+tt.rule+`,"then":{"effect":"audit"}}}}`, CompileOptions{})
			got, err := p.Applicable(context.Background(), tt.res, EvalOptions{})
			if err != nil || got != tt.want {
				t.Errorf("Applicable = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	aine := mustCompile(t, `{"properties":{"mode":"All","policyRule":{"if":{"allOf":[{"field":"type","equals":"Microsoft.Compute/virtualMachines"},
		{"field":"properties.x","equals":2}]},"then":{"effect":"auditIfNotExists","details":{"type":"Microsoft.Compute/virtualMachines/extensions"}}}}}`, CompileOptions{})
	if ok, _ := aine.Applicable(context.Background(), vm, EvalOptions{}); ok {
		t.Error("auditIfNotExists applies only when the whole if holds")
	}
}
