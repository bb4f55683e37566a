package policy

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestModifyAndDeployDetailsAreValidatedWithTheirPath(t *testing.T) {
	const (
		rdi = `"roleDefinitionIds":["/providers/Microsoft.Authorization/roleDefinitions/b24988ac"]`
		op  = `"operations":[{"operation":"addOrReplace","field":"tags['env']","value":"prod"}]`
		dep = `"deployment":{"properties":{"mode":"incremental","template":{}}}`
	)
	tests := []struct {
		name, effect, details string
		wantPath              string // "" when the definition compiles; "warn <path>" when it compiles with a warning
	}{
		{"complete modify compiles", `"modify"`, `{` + rdi + `,` + op + `}`, ""},
		{"modify without roleDefinitionIds", `"modify"`, `{` + op + `}`, "warn $.then.details.roleDefinitionIds"},
		{"modify without operations", `"modify"`, `{` + rdi + `}`, "warn $.then.details.operations"},
		{"modify with no operation", `"modify"`, `{` + rdi + `,"operations":[]}`, "warn $.then.details.operations"},
		{"modify details not an object", `"modify"`, `[1]`, "$.then.details"},
		{"roleDefinitionIds not an array", `"modify"`, `{"roleDefinitionIds":"/r",` + op + `}`, "$.then.details.roleDefinitionIds"},
		{"roleDefinitionIds member not a string", `"modify"`, `{"roleDefinitionIds":[1],` + op + `}`, "$.then.details.roleDefinitionIds[0]"},
		{"roleDefinitionIds from a parameter", `"modify"`, `{"roleDefinitionIds":"[parameters('roles')]",` + op + `}`, ""},
		{"operation without field", `"modify"`, `{` + rdi + `,"operations":[{"operation":"add","value":"v"}]}`, "$.then.details.operations[0].field"},
		{"add without value", `"modify"`, `{` + rdi + `,"operations":[{"operation":"add","field":"tags.a"}]}`, "$.then.details.operations[0].value"},
		{"remove needs no value", `"modify"`, `{` + rdi + `,"operations":[{"operation":"remove","field":"tags.a"}]}`, ""},
		{"complete deployIfNotExists compiles", `"deployIfNotExists"`, `{"type":"Microsoft.Compute/virtualMachines/extensions",` + rdi + `,` + dep + `}`, ""},
		{"deployIfNotExists without type", `"deployIfNotExists"`, `{` + rdi + `,` + dep + `}`, "warn $.then.details.type"},
		{"deployIfNotExists without deployment", `"deployIfNotExists"`, `{"type":"x",` + rdi + `}`, "warn $.then.details.deployment"},
		{"deployIfNotExists without roleDefinitionIds", `"DeployIfNotExists"`, `{"type":"x",` + dep + `}`, "warn $.then.details.roleDefinitionIds"},
		{"complete mode deployment", `"deployIfNotExists"`, `{"type":"x",` + rdi + `,"deployment":{"properties":{"mode":"Complete","template":{}}}}`, "$.then.details.deployment.properties.mode"},
		{"deployment without mode", `"deployIfNotExists"`, `{"type":"x",` + rdi + `,"deployment":{"properties":{"template":{}}}}`, "$.then.details.deployment.properties.mode"},
		{"deployment without properties", `"deployIfNotExists"`, `{"type":"x",` + rdi + `,"deployment":{}}`, "$.then.details.deployment.properties"},
		{"parameterized effect checks what is there", `"[parameters('effect')]"`, `{"type":"x","deployment":{"properties":{"mode":"complete"}}}`, "$.then.details.deployment.properties.mode"},
		{"parameterized effect requires nothing", `"[parameters('effect')]"`, `{"type":"x"}`, ""},
		{"audit details are not modify details", `"audit"`, `{"operations":[]}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule := `{"if":{"field":"type","equals":"x"},"then":{"effect":` + tt.effect + `,"details":` + tt.details + `}}`
			p, err := ParseAndCompile([]byte(rule), CompileOptions{Parameters: map[string]any{}})
			// Missing details Azure accepts compile, with a warning
			// (Policy.Warnings) at their path, and nothing else warns.
			if warnPath, ok := strings.CutPrefix(tt.wantPath, "warn "); ok {
				checkCompileError(t, err, "", "")
				var got []string
				for _, w := range p.Warnings() {
					got = append(got, w.Path)
				}
				if len(got) != 1 || got[0] != warnPath {
					t.Fatalf("warnings at %v, want one at %s", got, warnPath)
				}
				return
			}
			checkCompileError(t, err, tt.wantPath, "")
			if err == nil && strings.Contains(tt.effect, "modify") && len(p.Warnings()) > 0 {
				t.Fatalf("unexpected warnings %v", p.Warnings())
			}
		})
	}
}

// checkCompileError fails unless err is a *CompileError at wantPath with
// wantCode, or nil when wantPath is "".
func checkCompileError(t *testing.T, err error, wantPath, wantCode string) {
	t.Helper()
	var ce *CompileError
	switch {
	case wantPath == "" && err != nil:
		t.Fatalf("compile error %v, want none", err)
	case wantPath == "":
	case !errors.As(err, &ce):
		t.Fatalf("got %v, want a compile error at %s", err, wantPath)
	case ce.Path != wantPath || ce.Code != wantCode:
		t.Errorf("error %q at %s (%v), want %q at %s", ce.Code, ce.Path, err, wantCode, wantPath)
	}
}

func TestModifyOfIdentityOnlyOnVirtualMachines(t *testing.T) {
	tests := []struct {
		typ, field, conflictEffect string
		wantConflict               bool
	}{
		{"Microsoft.Compute/virtualMachines", "identity.type", "", false},
		{"microsoft.compute/virtualmachinescalesets", "identity.type", "", false},
		{"Microsoft.Compute/virtualMachines", "identity.userAssignedIdentities", "", false},
		{"Microsoft.Storage/storageAccounts", "identity.type", "", true},
		{"Microsoft.Web/sites", "identity.userAssignedIdentities", "audit", true},
		{"Microsoft.Storage/storageAccounts", "tags.identity", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.field, func(t *testing.T) {
			ce := ""
			if tt.conflictEffect != "" {
				ce = `"conflictEffect":"` + tt.conflictEffect + `",`
			}
			p := mustCompile(t, `{"if":{"field":"type","equals":"`+tt.typ+`"},"then":{"effect":"modify","details":{`+ce+
				`"roleDefinitionIds":["/r"],"operations":[{"operation":"addOrReplace","field":"`+tt.field+`","value":"SystemAssigned"}]}}}`, CompileOptions{})
			res := resource(t, map[string]any{"type": tt.typ, "location": "westeurope"})
			r := p.Evaluate(context.Background(), res, EvalOptions{})
			if !r.Matched {
				t.Fatalf("rule did not match: %+v", r)
			}
			_, err := p.Mutate(context.Background(), res, r, EvalOptions{})
			var conflict *ConflictError
			if got := errors.As(err, &conflict); got != tt.wantConflict {
				t.Fatalf("Mutate error %v, want conflict %v", err, tt.wantConflict)
			}
			want := tt.conflictEffect
			if want == "" {
				want = "deny"
			}
			if tt.wantConflict && conflict.ConflictEffect != want {
				t.Errorf("conflictEffect %q, want %q", conflict.ConflictEffect, want)
			}
		})
	}
}
