package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const policyExamples = "../../examples/policy"

// runPolicyCLI runs steward in-process with an isolated configuration
// directory and returns its output and exit status.
func runPolicyCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	var ex *exitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ex):
		return out.String() + ex.msg, ex.code
	default:
		return out.String() + err.Error(), 2
	}
}

func TestPolicyTestCommand(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	out, code := runPolicyCLI(t, "policy", "test", policyExamples)
	if code != 0 || !strings.HasSuffix(out, " passed, 0 failed\n") {
		t.Fatalf("examples: exit %d, output:\n%s", code, out)
	}

	dir := t.TempDir()
	def := filepath.Join(dir, "def.json")
	writePolicyTestFile(t, def, `{"if":{"field":"location","equals":"westeurope"},"then":{"effect":"deny"}}`)
	writePolicyTestFile(t, filepath.Join(dir, "cases.yaml"), `policy_definition_file: def.json
cases:
  - note: passes
    resource: {location: West Europe}
    want_effect: deny
  - note: fails
    resource: {location: eastus}
    want_effect: deny
`)
	out, code = runPolicyCLI(t, "policy", "test", dir)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"FAIL ", "cases.yaml:fails", "- want: effect deny", "+ got:  undefined", "1 passed, 1 failed\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestPolicyEvalCommand(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	out, code := runPolicyCLI(t, "policy", "eval", "--output", "json",
		"--definition", filepath.Join(policyExamples, "nsg-no-ssh-from-internet.json"),
		"--resource", filepath.Join(policyExamples, "resources", "nsg-open-ssh.json"),
		"--aliases", filepath.Join(policyExamples, "aliases.json"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var rows []struct {
		Effect      string `json:"effect"`
		State       string `json:"complianceState"`
		Expressions []struct {
			Expression string `json:"expression"`
			Operator   string `json:"operator"`
		} `json:"evaluatedExpressions"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if len(rows) != 1 || rows[0].Effect != "deny" || rows[0].State != "NonCompliant" || len(rows[0].Expressions) == 0 {
		t.Errorf("got %+v", rows)
	}

	out, code = runPolicyCLI(t, "policy", "eval", "--output", "json",
		"--set", filepath.Join(policyExamples, "initiative.json"),
		"--resource", filepath.Join(policyExamples, "resources", "storage-insecure.json"),
		"--aliases", filepath.Join(policyExamples, "aliases.json"))
	var members []struct {
		Ref    string `json:"policyDefinitionReferenceId"`
		Effect string `json:"effect"`
	}
	if err := json.Unmarshal([]byte(out), &members); err != nil || code != 0 {
		t.Fatalf("exit %d, %v in %s", code, err, out)
	}
	effects := map[string]string{}
	for _, m := range members {
		effects[m.Ref] = m.Effect
	}
	// The set passes storageEffect (default Deny) to the member.
	if effects["storageTransport"] != "deny" || effects["locations"] != "" {
		t.Errorf("set members: %v", effects)
	}

	out, code = runPolicyCLI(t, "policy", "eval", "--resource", "x.json")
	if code != 2 || !strings.Contains(out, "--definition") {
		t.Errorf("missing --definition: exit %d, %s", code, out)
	}
}

func TestPolicyLintCommand(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	good := filepath.Join(policyExamples, "allowed-locations.json")
	out, code := runPolicyCLI(t, "policy", "lint", good)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	writePolicyTestFile(t, bad, `{"if":{"anyOf":[{"field":"type","equalz":"x"}]},"then":{"effect":"deny"}}`)
	out, code = runPolicyCLI(t, "policy", "lint", good, bad)
	if code != 1 || !strings.Contains(out, "$.if.anyOf[0].equalz") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
	// Details Azure accepts though Learn calls them required are a
	// warning, not a failure.
	warn := filepath.Join(t.TempDir(), "warn.json")
	writePolicyTestFile(t, warn, `{"if":{"field":"type","equals":"x"},"then":{"effect":"modify","details":{"operations":[{"operation":"add","field":"tags['a']","value":"b"}]}}}`)
	out, code = runPolicyCLI(t, "policy", "lint", warn)
	if code != 0 || !strings.Contains(out, "warning") || !strings.Contains(out, "$.then.details.roleDefinitionIds") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestPolicyAliasesImport(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	src := filepath.Join(t.TempDir(), "mine.csv")
	writePolicyTestFile(t, src, "alias,path\nMicrosoft.Web/sites/clientCertEnabled,properties.clientCertEnabled\n")
	out, code := runPolicyCLI(t, "policy", "aliases", "import", src)
	if code != 0 || !strings.Contains(out, "imported 1 aliases") {
		t.Fatalf("exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(cfg, "steward", "aliases", "mine.csv")); err != nil {
		t.Fatal(err)
	}
	// A later run loads the stored table: the alias resolves to its
	// stored path rather than the default rule.
	writePolicyTestFile(t, src, "alias,path\nMicrosoft.Web/sites/custom,properties.deep.custom\n")
	if _, code := runPolicyCLI(t, "policy", "aliases", "import", src); code != 0 {
		t.Fatal("second import failed")
	}
	dir := t.TempDir()
	writePolicyTestFile(t, filepath.Join(dir, "c.yaml"), `cases:
  - note: stored_alias_is_used
    policy_rule: '{"if":{"field":"Microsoft.Web/sites/custom","equals":"yes"},"then":{"effect":"audit"}}'
    resource: {type: Microsoft.Web/sites, properties: {deep: {custom: "yes"}}}
    want_effect: audit
`)
	if out, code := runPolicyCLI(t, "policy", "test", dir); code != 0 {
		t.Errorf("exit %d: %s", code, out)
	}
	if _, code := runPolicyCLI(t, "policy", "aliases", "import", filepath.Join(dir, "c.yaml")); code == 0 {
		t.Error("importing a file that is not an alias table must fail")
	}
}

func writePolicyTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
