package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func mustCompile(t *testing.T, src string, opts CompileOptions) *Policy {
	t.Helper()
	p, err := ParseAndCompile([]byte(src), opts)
	if err != nil {
		t.Fatalf("compile %s: %v", src, err)
	}
	return p
}

func resource(t *testing.T, doc map[string]any) *Resource {
	t.Helper()
	return NewResource(Normalize(doc).(map[string]any))
}

func TestEvaluateConditions(t *testing.T) {
	vm := map[string]any{
		"type": "Microsoft.Compute/virtualMachines", "name": "vm1", "location": "West Europe",
		"tags": map[string]any{"Env": "Prod", "cost.center": "42"},
		"properties": map[string]any{
			"port":     "8080",
			"count":    3,
			"nullProp": nil,
			"rules": []any{
				map[string]any{"access": "Allow", "port": 22},
				map[string]any{"access": "Deny", "port": 443},
			},
			"empty": []any{},
		},
	}
	tests := []struct {
		name string
		cond string
		want bool
	}{
		{"equals ignores case", `{"field":"type","equals":"microsoft.compute/VIRTUALMACHINES"}`, true},
		{"location ignores spaces and case", `{"field":"location","equals":"westeurope"}`, true},
		{"location in list", `{"field":"location","in":["eastus","WestEurope"]}`, true},
		{"tag by bracket with dots", `{"field":"tags['cost.center']","equals":"42"}`, true},
		{"tag name case-insensitive", `{"field":"tags.env","equals":"prod"}`, true},
		{"missing field equals null", `{"field":"properties.nope","equals":null}`, true},
		{"missing field notEquals value", `{"field":"properties.nope","notEquals":"x"}`, true},
		{"null does not exist", `{"field":"properties.nullProp","exists":false}`, true},
		{"numeric string equals number", `{"field":"properties.port","equals":8080}`, true},
		{"numeric string orders as number", `{"field":"properties.port","greater":1024}`, true},
		{"like with star", `{"field":"name","like":"VM*"}`, true},
		{"match digits", `{"field":"name","match":"vm#"}`, true},
		{"match is case-sensitive", `{"field":"name","match":"VM#"}`, false},
		{"matchInsensitively", `{"field":"name","matchInsensitively":"VM#"}`, true},
		{"contains substring", `{"field":"type","contains":"compute"}`, true},
		{"containsKey", `{"field":"tags","containsKey":"ENV"}`, true},
		{"[*] is implicit allOf", `{"field":"properties.rules[*].access","equals":"Allow"}`, false},
		{"[*] notEquals holds for none", `{"field":"properties.rules[*].access","notEquals":"Audit"}`, true},
		{"[*] over empty array is true", `{"field":"properties.empty[*]","equals":"x"}`, true},
		{"[*] over missing array is false for equals", `{"field":"properties.missing[*].a","equals":"x"}`, false},
		{"[*] over missing array is true for notEquals", `{"field":"properties.missing[*].a","notEquals":"x"}`, true},
		{"field count with where", `{"count":{"field":"properties.rules[*]","where":{"field":"properties.rules[*].access","equals":"Allow"}},"equals":1}`, true},
		{"count of missing array is 0", `{"count":{"field":"properties.missing[*]"},"equals":0}`, true},
		{"value count with current", `{"count":{"value":["a","b","c"],"name":"x","where":{"value":"[current('x')]","notEquals":"b"}},"equals":2}`, true},
		{"nested count", `{"count":{"field":"properties.rules[*]","where":{"count":{"value":[22,23],"where":{"value":"[current()]","equals":"[current('properties.rules[*].port')]"}},"equals":1}},"equals":1}`, true},
		{"field() of a missing property is the empty string", `{"value":"[contains(field('properties.nope'), '-')]","equals":false}`, true},
		{"field() of [*] is an array", `{"value":"[length(field('properties.rules[*].port'))]","equals":2}`, true},
		{"not", `{"not":{"field":"name","equals":"vm1"}}`, false},
		{"empty allOf is true", `{"allOf":[]}`, true},
		{"empty anyOf is false", `{"anyOf":[]}`, false},
		{"keys are case-insensitive", `{"AllOf":[{"Field":"name","EQUALS":"vm1"}]}`, true},
		{"exists as string", `{"field":"name","exists":"True"}`, true},
		{"in treats a scalar as one element", `{"field":"name","in":"vm1"}`, true},
	}
	r := resource(t, vm)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, `{"if":`+tt.cond+`,"then":{"effect":"audit"}}`, CompileOptions{})
			got := p.Evaluate(context.Background(), r, EvalOptions{})
			if got.Err != nil {
				t.Fatalf("error: %v", got.Err)
			}
			if got.Matched != tt.want {
				t.Errorf("matched = %v, want %v", got.Matched, tt.want)
			}
		})
	}
}

func TestTypeMismatchIsErrorState(t *testing.T) {
	p := mustCompile(t, `{"if":{"field":"properties.flag","less":5},"then":{"effect":"deny"}}`, CompileOptions{})
	got := p.Evaluate(context.Background(), resource(t, map[string]any{"properties": map[string]any{"flag": true}}), EvalOptions{})
	if got.State != StateError || got.Effect != "" {
		t.Fatalf("got %+v, want the Error state and no effect", got)
	}
	var ee *EvalError
	if !errors.As(got.Err, &ee) || ee.Path != "$.if" {
		t.Errorf("error %v should be an *EvalError at $.if", got.Err)
	}
}

func TestParseErrorsCarryJSONPath(t *testing.T) {
	tests := []struct{ src, path string }{
		{`{"if":{"allOf":[{"field":"a","equals":1},{"field":"b"}]},"then":{"effect":"deny"}}`, "$.if.allOf[1]"},
		{`{"properties":{"policyRule":{"if":{"not":{"field":"a","bogus":1}},"then":{"effect":"deny"}}}}`, "$.properties.policyRule.if.not.bogus"},
		{`{"if":{"count":{"field":"x[*]","name":"n"},"equals":0},"then":{"effect":"deny"}}`, "$.if.count.name"},
		{`{"if":{"value":"[concat('a']","equals":1},"then":{"effect":"deny"}}`, "$.if.value"},
		{`{"properties":{"parameters":{"p":{"type":"Strong"}},"policyRule":{"if":{"value":1,"equals":1},"then":{"effect":"deny"}}}}`, "$.properties.parameters.p.type"},
	}
	for _, tt := range tests {
		_, err := ParseDefinition([]byte(tt.src))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: got %v, want a *ParseError", tt.src, err)
			continue
		}
		if pe.Path != tt.path {
			t.Errorf("%s: path %q, want %q", tt.src, pe.Path, tt.path)
		}
	}
}

func TestParametersAndEffects(t *testing.T) {
	def := `{"properties":{"mode":"All","parameters":{
		"effect":{"type":"String","allowedValues":["Audit","Deny","Disabled"],"defaultValue":"Audit"},
		"names":{"type":"Array"}},
		"policyRule":{"if":{"field":"name","in":"[parameters('names')]"},"then":{"effect":"[parameters('effect')]"}}}}`
	d, err := ParseDefinition([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	r := resource(t, map[string]any{"name": "a"})
	names := []any{"a"}
	tests := []struct {
		name       string
		params     map[string]any
		wantEffect string
		wantErr    string
	}{
		{"default effect", map[string]any{"names": names}, EffectAudit, ""},
		{"assigned effect", map[string]any{"names": names, "effect": "Deny"}, EffectDeny, ""},
		{"assignment form of values", map[string]any{"names": map[string]any{"value": names}}, EffectAudit, ""},
		{"disabled skips evaluation", map[string]any{"names": names, "effect": "Disabled"}, "", ""},
		{"allowedValues are case-sensitive", map[string]any{"names": names, "effect": "deny"}, "", "allowedValues"},
		{"missing required parameter", map[string]any{}, "", "no value"},
		{"wrong type", map[string]any{"names": "a"}, "", "want Array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(d, CompileOptions{Parameters: tt.params})
			if tt.wantErr != "" {
				var pe *ParameterError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want a *ParameterError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Evaluate(context.Background(), r, EvalOptions{}); got.Effect != tt.wantEffect {
				t.Errorf("effect %q, want %q (%+v)", got.Effect, tt.wantEffect, got)
			}
			// The same values given per evaluation give the same effect.
			p2, _ := Compile(d, CompileOptions{})
			if got := p2.Evaluate(context.Background(), r, EvalOptions{Parameters: tt.params}); got.Effect != tt.wantEffect {
				t.Errorf("per-evaluation parameters: effect %q, want %q (%+v)", got.Effect, tt.wantEffect, got)
			}
		})
	}
}

func TestExplanationListsEvaluatedConditions(t *testing.T) {
	p := mustCompile(t, `{"if":{"allOf":[{"field":"type","equals":"Microsoft.Storage/storageAccounts"},
		{"field":"Microsoft.Storage/storageAccounts/minimumTlsVersion","notEquals":"TLS1_2"}]},"then":{"effect":"deny"}}`, CompileOptions{})
	got := p.Evaluate(context.Background(), resource(t, map[string]any{"type": "Microsoft.Storage/storageAccounts",
		"properties": map[string]any{"minimumTlsVersion": "TLS1_0"}}), EvalOptions{Explain: true})
	if got.Effect != EffectDeny || len(got.Explanation) != 2 {
		t.Fatalf("got %+v", got)
	}
	e := got.Explanation[1]
	if e.Path != "properties.minimumTlsVersion" || e.ExpressionValue != "TLS1_0" || e.TargetValue != "TLS1_2" ||
		e.Operator != "notEquals" || !e.Result || e.ExpressionKind != "Field" {
		t.Errorf("explanation %+v", e)
	}
}

func TestRelatedResourcesForAuditIfNotExists(t *testing.T) {
	p := mustCompile(t, `{"if":{"field":"type","equals":"Microsoft.Compute/virtualMachines"},"then":{"effect":"auditIfNotExists",
		"details":{"type":"Microsoft.Compute/virtualMachines/extensions","name":"[concat(field('name'), '/monitor')]",
		"existenceCondition":{"allOf":[{"field":"properties.publisher","equals":"Microsoft.Azure.Monitor"},
		{"value":"[field('name')]","equals":"vm1"}]}}}}`, CompileOptions{})
	vm := resource(t, map[string]any{"type": "Microsoft.Compute/virtualMachines", "name": "vm1"})
	var asked RelatedQuery
	lookup := func(found ...map[string]any) RelatedFunc {
		return func(_ context.Context, q RelatedQuery) ([]map[string]any, error) { asked = q; return found, nil }
	}
	good := map[string]any{"properties": map[string]any{"publisher": "Microsoft.Azure.Monitor"}}
	bad := map[string]any{"properties": map[string]any{"publisher": "Other"}}
	if got := p.Evaluate(context.Background(), vm, EvalOptions{Related: lookup(bad, good)}); got.State != StateCompliant || got.Effect != "" {
		t.Errorf("with a matching extension: %+v", got)
	}
	if asked.Type != "Microsoft.Compute/virtualMachines/extensions" || asked.Name != "vm1/monitor" {
		t.Errorf("query %+v", asked)
	}
	if got := p.Evaluate(context.Background(), vm, EvalOptions{Related: lookup(bad)}); got.Effect != EffectAuditIfNotExists || got.State != StateNonCompliant {
		t.Errorf("without a matching extension: %+v", got)
	}
}

func TestVersionedAliasPaths(t *testing.T) {
	table, err := LoadAliasesProviderJSON([]byte(`[{"namespace":"Microsoft.Test","resourceTypes":[{"resourceType":"things",
		"capabilities":"SupportsTags, SupportsLocation","aliases":[{"name":"Microsoft.Test/things/tier","defaultPath":"sku.tier",
		"paths":[{"path":"properties.oldTier","apiVersions":["2015-01-01"]}]}]}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	p := mustCompile(t, `{"if":{"field":"Microsoft.Test/things/tier","equals":"gold"},"then":{"effect":"deny"}}`, CompileOptions{Aliases: table})
	r := resource(t, map[string]any{"type": "Microsoft.Test/things", "sku": map[string]any{"tier": "gold"},
		"properties": map[string]any{"oldTier": "silver"}})
	for _, tt := range []struct {
		api  string
		want bool
	}{{"", true}, {"2020-01-01", true}, {"2015-01-01", false}} {
		if got := p.Evaluate(context.Background(), r, EvalOptions{APIVersion: tt.api}); got.Matched != tt.want {
			t.Errorf("api-version %q: matched %v, want %v", tt.api, got.Matched, tt.want)
		}
	}
	other := resource(t, map[string]any{"type": "Microsoft.Other/things", "sku": map[string]any{"tier": "gold"}})
	if p.Evaluate(context.Background(), other, EvalOptions{}).Matched {
		t.Error("an alias must select nothing on a resource of another type")
	}
}

func TestLoadAliasesCSV(t *testing.T) {
	table, err := LoadAliasesCSV(strings.NewReader("alias,path\nMicrosoft.Web/sites/httpsOnly,properties.httpsOnly\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, ok := table.Lookup("microsoft.web/SITES/httpsonly")
	if !ok || a.DefaultPath != "properties.httpsOnly" || a.ResourceType != "Microsoft.Web/sites" {
		t.Fatalf("lookup: %+v %v", a, ok)
	}
	if _, err := LoadAliasesCSV(strings.NewReader("alias,path\nnot-an-alias,x\n")); err == nil {
		t.Error("a name without a type should be an error")
	}
}

func TestAppliesToByMode(t *testing.T) {
	indexed := mustCompile(t, `{"properties":{"mode":"Indexed","policyRule":{"if":{"field":"type","like":"Microsoft.Network/*"},"then":{"effect":"audit"}}}}`, CompileOptions{})
	all := mustCompile(t, `{"properties":{"mode":"all","policyRule":{"if":{"field":"name","equals":"x"},"then":{"effect":"audit"}}}}`, CompileOptions{})
	rp := mustCompile(t, `{"properties":{"mode":"Microsoft.KeyVault.Data","policyRule":{"if":{"field":"name","equals":"x"},"then":{"effect":"audit"}}}}`, CompileOptions{})
	nsg := resource(t, map[string]any{"type": "Microsoft.Network/networkSecurityGroups", "location": "westeurope"})
	route := resource(t, map[string]any{"type": "Microsoft.Network/routeTables/routes"})
	rg := resource(t, map[string]any{"type": "Microsoft.Resources/subscriptions/resourceGroups", "location": "westeurope"})
	vm := resource(t, map[string]any{"type": "Microsoft.Compute/virtualMachines", "location": "westeurope"})
	for _, tt := range []struct {
		name string
		p    *Policy
		r    *Resource
		want bool
	}{
		{"indexed tracked resource", indexed, nsg, true},
		{"indexed child without location", indexed, route, false},
		{"indexed resource group", indexed, rg, false},
		{"type filter", indexed, vm, false},
		{"all resource group", all, rg, true},
		{"resource provider mode", rp, vm, false},
	} {
		if got := tt.p.AppliesTo(tt.r); got != tt.want {
			t.Errorf("%s: AppliesTo = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestEvaluateConcurrently(t *testing.T) {
	p := mustCompile(t, `{"if":{"allOf":[{"field":"[concat('tags[', 'env', ']')]","equals":"prod"},
		{"count":{"field":"properties.rules[*]","where":{"value":"[current('properties.rules[*].port')]","greater":100}},"equals":1}]},
		"then":{"effect":"audit"}}`, CompileOptions{})
	r := resource(t, map[string]any{"tags": map[string]any{"env": "prod"},
		"properties": map[string]any{"rules": []any{map[string]any{"port": 22}, map[string]any{"port": 443}}}})
	done := make(chan string)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				if got := p.Evaluate(context.Background(), r, EvalOptions{Explain: i%2 == 0}); got.Effect != EffectAudit {
					done <- fmt.Sprintf("got %+v", got)
					return
				}
			}
			done <- ""
		}()
	}
	for g := 0; g < 8; g++ {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}
