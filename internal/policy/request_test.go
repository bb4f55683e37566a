package policy

import (
	"context"
	"testing"
	"time"
)

func compileAssigned(t *testing.T, id, def string, props string) *Assigned {
	t.Helper()
	a, err := ParseAssignment([]byte(`{"id":"` + testSub + `/providers/Microsoft.Authorization/policyAssignments/` + id + `",
		"properties":{"scope":"` + testSub + `","policyDefinitionId":"/providers/Microsoft.Authorization/policyDefinitions/` + id + `"` + props + `}}`))
	if err != nil {
		t.Fatal(err)
	}
	x, err := CompileAssignment(a, Resolvers{Definition: func(string) (*Definition, error) { return ParseDefinition([]byte(def)) }}, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestEvaluateRequestOrder(t *testing.T) {
	addTag := compileAssigned(t, "add-env", `{"properties":{"mode":"Indexed","policyRule":{"if":{"field":"tags.env","exists":false},
		"then":{"effect":"modify","details":{"roleDefinitionIds":["/r"],"operations":[{"operation":"add","field":"tags.env","value":"dev"}]}}}}}`, "")
	requireTag := compileAssigned(t, "require-env", `{"properties":{"mode":"Indexed","policyRule":{"if":{"field":"tags.env","exists":false},
		"then":{"effect":"deny"}}}}`, `,"nonComplianceMessages":[{"message":"tag it"}]`)
	denyEast := compileAssigned(t, "deny-east", `{"properties":{"mode":"Indexed","policyRule":{"if":{"field":"location","equals":"eastus"},
		"then":{"effect":"deny"}}}}`, "")
	auditOnly := compileAssigned(t, "deny-east-dne", `{"properties":{"mode":"Indexed","policyRule":{"if":{"field":"location","equals":"eastus"},
		"then":{"effect":"deny"}}}}`, `,"enforcementMode":"DoNotEnforce"`)
	vm := func(loc string) *Resource { return vmIn("app", loc, nil) }
	now := time.Now()

	// The modify adds the tag, so the deny that requires it no longer applies.
	d := EvaluateRequest(context.Background(), []*Assigned{addTag, requireTag}, vm("westeurope"), nil, now, EvalOptions{})
	if d.Denied || len(d.Modified) != 1 || d.Document["tags"].(map[string]any)["env"] != "dev" {
		t.Errorf("modify before deny: %+v", d)
	}
	// Without the modify the deny applies, with the assignment's message.
	d = EvaluateRequest(context.Background(), []*Assigned{requireTag}, vm("westeurope"), nil, now, EvalOptions{})
	if !d.Denied || len(d.Denials) != 1 || d.Denials[0].Message != "tag it" {
		t.Errorf("deny: %+v", d)
	}
	// DoNotEnforce reports instead of denying.
	d = EvaluateRequest(context.Background(), []*Assigned{auditOnly}, vm("eastus"), nil, now, EvalOptions{})
	if d.Denied || len(d.Audits) != 1 {
		t.Errorf("DoNotEnforce: %+v", d)
	}
	d = EvaluateRequest(context.Background(), []*Assigned{denyEast, auditOnly}, vm("eastus"), nil, now, EvalOptions{})
	if !d.Denied || len(d.Denials) != 1 || d.Denials[0].AssignmentID != denyEast.Assignment.ID {
		t.Errorf("enforced deny: %+v", d)
	}
}
