package policy

import (
	"context"
	"strings"
	"testing"
)

// repeat joins n copies of s (with i replaced by the copy's index) with commas.
func repeat(n int, s string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = strings.ReplaceAll(s, "{i}", itoa(i))
	}
	return strings.Join(parts, ",")
}

func nest(n int, open, inner, close string) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
}

func TestRuleLimitsAreCompileErrors(t *testing.T) {
	cond := `{"field":"name","equals":"n{i}"}`
	fieldCount := `{"count":{"field":"properties.list[*]"},"equals":1}`
	valueCount := `{"count":{"value":[1,2]},"equals":1}`
	ints := func(n int) string { return "[" + repeat(n, "{i}") + "]" }
	aine := func(conds int) string {
		return `{"field":"type","equals":"x"},"then":{"effect":"auditIfNotExists","details":{"type":"y",` +
			`"existenceCondition":{"allOf":[` + repeat(conds, cond) + `]}}}`
	}
	tests := []struct {
		name     string
		rule     string // the rule from the if's value on
		wantPath string // "" when it compiles
		wantCode string
	}{
		{"4096 if conditions", `{"allOf":[` + repeat(MaxIfConditions, cond) + `]},"then":{"effect":"audit"}`, "", ""},
		{"4097 if conditions", `{"allOf":[` + repeat(MaxIfConditions+1, cond) + `]},"then":{"effect":"audit"}`, "$.if", CodePolicyRuleTooComplex},
		{"where conditions count too", `{"allOf":[` + repeat(MaxIfConditions-1, cond) + `,{"count":{"field":"a[*]","where":` + cond + `},"equals":0}]},"then":{"effect":"audit"}`, "$.if", CodePolicyRuleTooComplex},
		{"128 existence conditions", aine(MaxExistenceConditions), "", ""},
		{"129 existence conditions", aine(MaxExistenceConditions + 1), "$.then.details.existenceCondition", CodePolicyRuleTooComplex},
		{"5 field counts of one array", `{"allOf":[` + repeat(MaxFieldCountsPerArray, fieldCount) + `]},"then":{"effect":"audit"}`, "", ""},
		{"6 field counts of one array", `{"allOf":[` + repeat(MaxFieldCountsPerArray+1, fieldCount) + `]},"then":{"effect":"audit"}`, "$.if.allOf[5].count", CodeTooManyCountExpressions},
		{"6 field counts of different arrays", `{"allOf":[` + repeat(6, `{"count":{"field":"properties.list{i}[*]"},"equals":1}`) + `]},"then":{"effect":"audit"}`, "", ""},
		{"10 value counts", `{"allOf":[` + repeat(MaxValueCounts, valueCount) + `]},"then":{"effect":"audit"}`, "", ""},
		{"11 value counts", `{"allOf":[` + repeat(MaxValueCounts+1, valueCount) + `]},"then":{"effect":"audit"}`, "$.if.allOf[10].count", CodeTooManyCountExpressions},
		{"200 iterations", `{"count":{"value":` + ints(MaxValueCountIterations) + `},"equals":1},"then":{"effect":"audit"}`, "", ""},
		{"201 iterations", `{"count":{"value":` + ints(MaxValueCountIterations+1) + `},"equals":1},"then":{"effect":"audit"}`, "$.if.count.value", CodeTooManyCountExpressions},
		{"nested iterations multiply: 20 x 10", `{"count":{"value":` + ints(20) + `,"name":"a","where":{"count":{"value":` + ints(10) + `,"name":"b"},"equals":1}},"equals":1},"then":{"effect":"audit"}`, "", ""},
		{"nested iterations multiply: 20 x 11", `{"count":{"value":` + ints(20) + `,"name":"a","where":{"count":{"value":` + ints(11) + `,"name":"b"},"equals":1}},"equals":1},"then":{"effect":"audit"}`, "$.if.count.where.count.value", CodeTooManyCountExpressions},
		{"128 function arguments", `{"value":"[concat(` + repeat(MaxFunctionArgs, "'a'") + `)]","equals":"a"},"then":{"effect":"audit"}`, "", ""},
		{"129 function arguments", `{"value":"[concat(` + repeat(MaxFunctionArgs+1, "'a'") + `)]","equals":"a"},"then":{"effect":"audit"}`, "$.if.value", CodePolicyRuleTooComplex},
		{"functions nested 64 deep", `{"value":"[` + nest(MaxFunctionDepth, "string(", "1", ")") + `]","equals":"1"},"then":{"effect":"audit"}`, "", ""},
		{"functions nested 65 deep", `{"value":"[` + nest(MaxFunctionDepth+1, "string(", "1", ")") + `]","equals":"1"},"then":{"effect":"audit"}`, "$.if.value", CodePolicyRuleTooComplex},
		{"2048 function calls", `{"allOf":[` + repeat(16, `{"value":"[concat(`+repeat(127, "string({i})")+`)]","equals":"{i}"}`) + `]},"then":{"effect":"audit"}`, "", ""},
		{"2049 function calls", `{"allOf":[` + repeat(16, `{"value":"[concat(`+repeat(127, "string({i})")+`)]","equals":"{i}"}`) + `,{"value":"[string(1)]","equals":"1"}]},"then":{"effect":"audit"}`, "$.if.allOf[16].value", CodePolicyRuleTooComplex},
		{"a deployment template's functions do not count", `{"field":"type","equals":"x"},"then":{"effect":"deployIfNotExists","details":{"type":"y","roleDefinitionIds":["/r"],` +
			`"deployment":{"properties":{"mode":"incremental","template":{"v":"[concat(` + repeat(MaxFunctionArgs+1, "'a'") + `)]"}}}}}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAndCompile([]byte(`{"if":`+tt.rule+`}`), CompileOptions{})
			checkCompileError(t, err, tt.wantPath, tt.wantCode)
		})
	}
}

func TestValueCountIterationsAreCheckedWhenEvaluated(t *testing.T) {
	list := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = int64(i)
		}
		return out
	}
	tests := []struct {
		name      string
		rule      string
		members   int
		wantError bool
	}{
		{"200 members of a field", `{"count":{"value":"[field('properties.list')]"},"greater":0}`, MaxValueCountIterations, false},
		{"201 members of a field", `{"count":{"value":"[field('properties.list')]"},"greater":0}`, MaxValueCountIterations + 1, true},
		{"nested under a constant count", `{"count":{"value":[1,2],"name":"o","where":{"count":{"value":"[field('properties.list')]","name":"i"},"greater":0}},"greater":0}`, 101, true},
		{"nested within the limit", `{"count":{"value":[1,2],"name":"o","where":{"count":{"value":"[field('properties.list')]","name":"i"},"greater":0}},"greater":0}`, 100, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, `{"if":`+tt.rule+`,"then":{"effect":"audit"}}`, CompileOptions{})
			res := resource(t, map[string]any{"type": "x", "properties": map[string]any{"list": list(tt.members)}})
			r := p.Evaluate(context.Background(), res, EvalOptions{})
			if gotErr := r.State == StateError; gotErr != tt.wantError {
				t.Fatalf("state %s (%v), want error %v", r.State, r.Err, tt.wantError)
			}
			if tt.wantError && !strings.Contains(r.Err.Error(), CodeTooManyCountExpressions) {
				t.Errorf("error %v does not name %s", r.Err, CodeTooManyCountExpressions)
			}
			if !tt.wantError && r.Effect != EffectAudit {
				t.Errorf("effect %q, want audit", r.Effect)
			}
		})
	}
}
