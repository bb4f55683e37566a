package policy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseParameterValues(t *testing.T) {
	for _, src := range []string{
		`{"effect":"Deny","list":["a"]}`,
		`{"effect":{"value":"Deny"},"list":{"value":["a"]}}`,
		`{"$schema":"https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#","contentVersion":"1.0.0.0",
		  "parameters":{"effect":{"value":"Deny"},"list":{"value":["a"]}}}`,
	} {
		got, err := ParseParameterValues([]byte(src))
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got["effect"] != "Deny" || len(got["list"].([]any)) != 1 {
			t.Errorf("%s: got %v", src, got)
		}
	}
	if _, err := ParseParameterValues([]byte(`[1]`)); err == nil {
		t.Error("an array is not a parameter file")
	}
}

func TestDetectKind(t *testing.T) {
	for src, want := range map[string]DocumentKind{
		`{"properties":{"policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"audit"}}}}`: KindDefinition,
		`{"if":{"field":"type","equals":"x"},"then":{"effect":"audit"}}`:                               KindDefinition,
		`{"properties":{"policyDefinitions":[]}}`:                                                      KindSet,
		`{"properties":{"policyDefinitionId":"/x","scope":"/subscriptions/s"}}`:                        KindAssignment,
		`{"properties":{"policyAssignmentId":"/a","exemptionCategory":"Waiver"}}`:                      KindExemption,
	} {
		if got := DetectKind([]byte(src)); got != want {
			t.Errorf("%s: %s, want %s", src, got, want)
		}
	}
}

func TestAliasDirAndResolver(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.csv", "alias,path\nMicrosoft.Web/sites/x,properties.one\n")
	write("b.csv", "alias,path\nMicrosoft.Web/sites/x,properties.two\n")
	table, err := LoadAliasDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := table.Lookup("Microsoft.Web/sites/x"); !ok || a.DefaultPath != "properties.two" {
		t.Errorf("later files win: %+v", a)
	}
	if empty, err := LoadAliasDir(filepath.Join(dir, "missing")); err != nil || empty.Len() != 0 {
		t.Errorf("a missing directory is an empty table: %v %v", empty, err)
	}

	defs := t.TempDir()
	if err := os.WriteFile(filepath.Join(defs, "mine.json"), []byte(`{"name":"guid-1","properties":{"policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"audit"}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	resolve, err := DirResolver(defs)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"/providers/Microsoft.Authorization/policyDefinitions/guid-1", "mine"} {
		if _, err := resolve(id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if _, err := resolve("/providers/Microsoft.Authorization/policyDefinitions/other"); err == nil {
		t.Error("an unknown definition must not resolve")
	}
}

func TestUnknownAliases(t *testing.T) {
	table, err := LoadAliasesCSV(strings.NewReader("alias,path\nMicrosoft.Web/sites/httpsOnly,properties.httpsOnly\n"))
	if err != nil {
		t.Fatal(err)
	}
	def := []byte(`{"if":{"allOf":[{"field":"Microsoft.Web/sites/httpsOnly","equals":false},
		{"field":"Microsoft.Web/sites/nonsense","exists":true}]},"then":{"effect":"audit"}}`)
	countDef := []byte(`{"if":{"count":{"field":"Microsoft.Web/sites/nope[*]"},"greater":0},"then":{"effect":"audit"}}`)
	tests := []struct {
		name    string
		def     []byte
		opts    CompileOptions
		wantErr string
	}{
		{"without a table the default rule applies", def, CompileOptions{}, ""},
		{"with a table an unknown alias is InvalidPolicyAlias", def, CompileOptions{Aliases: table}, "'Microsoft.Web/sites/nonsense' of the policy rule doesn't exist as an alias under provider 'Microsoft.Web' and resource type 'sites'"},
		{"a counted unknown alias too", countDef, CompileOptions{Aliases: table}, "Microsoft.Web/sites/nope[*]"},
		{"allowed on request", def, CompileOptions{Aliases: table, AllowUnknownAliases: true}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := Lint(tc.def, tc.opts)
			if tc.wantErr == "" {
				if len(errs) != 0 {
					t.Fatalf("errors: %v", errs)
				}
				return
			}
			var ce *CompileError
			if len(errs) != 1 || !errors.As(errs[0], &ce) || ce.Code != CodeInvalidPolicyAlias || !strings.Contains(ce.Message, tc.wantErr) {
				t.Fatalf("got %v, want an InvalidPolicyAlias naming %q", errs, tc.wantErr)
			}
		})
	}
	p, err := ParseAndCompile(def, CompileOptions{Aliases: table, AllowUnknownAliases: true})
	if err != nil {
		t.Fatal(err)
	}
	site := NewResource(map[string]any{"type": "Microsoft.Web/sites", "name": "s", "location": "eu"})
	if ok, _ := p.Applicable(context.Background(), site, EvalOptions{}); ok {
		t.Error("a policy with an allowed unknown alias is not applicable")
	}
}

func TestEvalContext(t *testing.T) {
	res := NewResource(map[string]any{"id": "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Web/sites/a"})
	c := ContextForResource(res)
	if c.ResourceGroup["name"] != "rg1" || c.Subscription["subscriptionId"] != "s1" {
		t.Errorf("from the id: %+v", c)
	}
	if c := ContextForResource(NewResource(nil)); c.ResourceGroup != nil || c.Subscription != nil {
		t.Errorf("no id: %+v", c)
	}
	f, err := ParseEvalContext([]byte(`{"resourceGroup":{"name":"x","location":"westeurope"},"requestContext":{"apiVersion":"2024-01-01"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var opts EvalOptions
	c.Apply(&opts)
	f.Apply(&opts)
	if opts.ResourceGroup["location"] != "westeurope" || opts.Subscription["subscriptionId"] != "s1" || opts.RequestContext["apiVersion"] != "2024-01-01" {
		t.Errorf("merged: %+v", opts)
	}
	if _, err := ParseEvalContext([]byte(`{"policy":"x"}`)); err == nil {
		t.Error("a non-object part must be an error")
	}
}
