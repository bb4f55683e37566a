package policyprovider

import (
	"errors"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/policy"
)

func compileFor(t *testing.T, rule, assignment string) *policy.Assigned {
	t.Helper()
	def, err := policy.ParseDefinition([]byte(rule))
	if err != nil {
		t.Fatal(err)
	}
	a, err := policy.ParseAssignment([]byte(assignment))
	if err != nil {
		t.Fatal(err)
	}
	x, err := policy.CompileAssignment(a, policy.Resolvers{Definition: func(string) (*policy.Definition, error) { return def, nil }}, policy.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

const assignD = `{"properties":{"policyDefinitionId":"/subscriptions/s/providers/Microsoft.Authorization/policyDefinitions/d","parameters":{"effect":{"value":"Deny"}}}}`

func TestMayMutateFollowsTheEffect(t *testing.T) {
	tests := []struct {
		name, rule, assignment string
		want                   bool
	}{
		{"literal deny", `{"properties":{"policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"deny"}}}}`, assignD, false},
		{"literal audit", `{"properties":{"policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"Audit"}}}}`, assignD, false},
		{"modify", `{"properties":{"policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"modify","details":{"roleDefinitionIds":[],"operations":[{"operation":"add","field":"tags['a']","value":"b"}]}}}}}`, assignD, true},
		{"append", `{"properties":{"policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"append","details":[{"field":"tags['a']","value":"b"}]}}}}`, assignD, true},
		{"parameterized", `{"properties":{"parameters":{"effect":{"type":"String"}},"policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"[parameters('effect')]"}}}}`, assignD, true},
		{"overridden", `{"properties":{"policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"deny"}}}}`,
			`{"properties":{"policyDefinitionId":"/providers/Microsoft.Authorization/policyDefinitions/d","overrides":[{"kind":"policyEffect","value":"Audit"}]}}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mayMutate(compileFor(t, tc.rule, tc.assignment)); got != tc.want {
				t.Errorf("mayMutate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestGroupKeySharesOnlyIdenticalAssignments(t *testing.T) {
	parse := func(s string) *policy.Assignment {
		a, err := policy.ParseAssignment([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	base := parse(`{"id":"/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/a","properties":{"policyDefinitionId":"/P/d","parameters":{"x":{"value":[1,2]}}}}`)
	tests := []struct {
		name  string
		other string
		same  bool
	}{
		{"same definition and parameters elsewhere", `{"id":"/subscriptions/s/resourceGroups/g/providers/Microsoft.Authorization/policyAssignments/b","properties":{"policyDefinitionId":"/p/D","parameters":{"x":{"value":[1,2]}},"enforcementMode":"DoNotEnforce"}}`, true},
		{"other parameters", `{"properties":{"policyDefinitionId":"/P/d","parameters":{"x":{"value":[2,1]}}}}`, false},
		{"other definition", `{"properties":{"policyDefinitionId":"/P/e","parameters":{"x":{"value":[1,2]}}}}`, false},
		{"with an override", `{"properties":{"policyDefinitionId":"/P/d","parameters":{"x":{"value":[1,2]}},"overrides":[{"kind":"policyEffect","value":"Audit"}]}}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := groupKey(base) == groupKey(parse(tc.other)); got != tc.same {
				t.Errorf("same group = %v, want %v", got, tc.same)
			}
		})
	}
}

func TestNamesDelete(t *testing.T) {
	tests := []struct {
		details any
		want    bool
	}{
		{map[string]any{"actionNames": []any{"delete"}}, true},
		{map[string]any{"ActionNames": []any{"Delete"}}, true},
		{map[string]any{"actionNames": []any{"write"}}, false},
		{map[string]any{}, false},
		{"delete", false},
		{nil, false},
	}
	for _, tc := range tests {
		if got := namesDelete(tc.details); got != tc.want {
			t.Errorf("namesDelete(%v) = %v, want %v", tc.details, got, tc.want)
		}
	}
}

func TestEvaluationDocumentFillsIdentityWithoutChangingTheRequest(t *testing.T) {
	req := &cloud.PolicyRequest{ID: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/site1", Type: "Microsoft.Web/sites",
		Document: map[string]any{"location": "westeurope"}}
	doc := evaluationDocument(req)
	if doc["id"] != req.ID || doc["type"] != "Microsoft.Web/sites" || doc["name"] != "site1" || doc["location"] != "westeurope" {
		t.Errorf("document: %v", doc)
	}
	if len(req.Document) != 1 {
		t.Errorf("request document changed: %v", req.Document)
	}
	req.Document["name"] = "given"
	if evaluationDocument(req)["name"] != "given" {
		t.Error("a name in the document was replaced")
	}
}

func TestDefinitionErrorCodes(t *testing.T) {
	tests := []struct {
		err  error
		code string
	}{
		{&policy.ParameterError{Name: "p", Message: "no value was given and it has no defaultValue"}, "MissingPolicyParameter"},
		{&policy.ParameterError{Name: "p", Message: "value 3 is not one of the allowedValues"}, "InvalidPolicyParameters"},
		{&policy.ParseError{Path: "$.properties.policyRule.if", Message: "unknown operator"}, "InvalidPolicyRule"},
		{&policy.CompileError{Path: "$.properties.policyRule.then.details", Message: "bad"}, "InvalidPolicyRule"},
		{&policy.CompileError{Path: "$.properties.policyRule.if", Message: "too many", Code: "PolicyRuleTooComplex"}, "PolicyRuleTooComplex"},
		{&policy.ParseError{Path: "$.properties.parameters.x.type", Message: "bad type"}, "InvalidPolicyParameters"},
		{&policy.ParseError{Path: "$.properties.mode", Message: "bad mode"}, "InvalidPolicyMode"},
		{&policy.ParseError{Path: "$.properties.policyDefinitions[0]", Message: "bad"}, "InvalidPolicySetDefinition"},
		{arm.NotFound("PolicyDefinitionNotFound", "x"), "PolicyDefinitionNotFound"},
		{errors.New("other"), "InvalidPolicyDefinition"},
	}
	for _, tc := range tests {
		var ae *arm.Error
		if !errors.As(definitionError(tc.err), &ae) || ae.Code != tc.code || ae.Status >= 500 {
			t.Errorf("definitionError(%v) = %v, want %s", tc.err, ae, tc.code)
		}
	}
}

func TestExpired(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		s    string
		want bool
	}{
		{"2026-01-01T00:00:00Z", true},
		{"2026-01-02T03:04:05Z", true},
		{"2026-01-03T00:00:00.0000000Z", false},
		{"not a time", false},
	}
	for _, tc := range tests {
		if got := expired(tc.s, now); got != tc.want {
			t.Errorf("expired(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
