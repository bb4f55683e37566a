package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// addFuzzSeeds seeds a fuzz target with testdata/seeds and, when
// ../shared is present, the corpus definitions (every 25th, to keep the
// seed corpus quick to replay).
func addFuzzSeeds(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/seeds/*.json")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	root := filepath.Join(sharedDir, "corpus/azure-policy/built-in-policies/policyDefinitions")
	if _, err := os.Stat(root); err != nil {
		return
	}
	i := 0
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		if i++; i%25 == 0 {
			if data, err := os.ReadFile(path); err == nil {
				f.Add(data)
			}
		}
		return nil
	})
}

// FuzzParseDefinition checks that no input makes the parser, compiler or
// evaluator panic: internal errors (recovered panics) fail the test.
func FuzzParseDefinition(f *testing.F) {
	addFuzzSeeds(f)
	res := NewResource(Normalize(map[string]any{
		"type": "Microsoft.Compute/virtualMachines", "name": "vm1", "location": "westeurope",
		"tags":       map[string]any{"env": "prod"},
		"properties": map[string]any{"securityRules": []any{map[string]any{"access": "Allow", "port": "22"}}},
	}).(map[string]any))
	f.Fuzz(func(t *testing.T, data []byte) {
		def, err := ParseDefinition(data)
		if err != nil {
			if strings.Contains(err.Error(), "internal parser error") {
				t.Fatalf("parser panicked: %v", err)
			}
			return
		}
		p, err := Compile(def, CompileOptions{})
		if err != nil {
			if strings.Contains(err.Error(), "internal compiler error") {
				t.Fatalf("compiler panicked: %v", err)
			}
			return
		}
		r := p.Evaluate(context.Background(), res, EvalOptions{Explain: true})
		if r.Err != nil && strings.Contains(r.Err.Error(), "internal evaluation error") {
			t.Fatalf("evaluation panicked: %v", r.Err)
		}
	})
}

// FuzzParseDocuments checks the set, assignment and exemption parsers and
// the kind detection against arbitrary input.
func FuzzParseDocuments(f *testing.F) {
	f.Add([]byte(testSet))
	f.Add([]byte(`{"properties":{"policyDefinitionId":"/x","notScopes":["/a"],"overrides":[{"kind":"policyEffect","value":"Audit","selectors":[{"kind":"resourceLocation","in":["eu"]}]}]}}`))
	f.Add([]byte(`{"properties":{"policyAssignmentId":"/a","exemptionCategory":"Waiver","expiresOn":"2030-01-01T00:00:00Z"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, err := range []error{
			func() error { _, err := ParseSetDefinition(data); return err }(),
			func() error { _, err := ParseAssignment(data); return err }(),
			func() error { _, err := ParseExemption(data); return err }(),
		} {
			if err != nil && strings.Contains(err.Error(), "internal parser error") {
				t.Fatalf("parser panicked: %v", err)
			}
		}
		_ = DetectKind(data)
	})
}
