package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nsgSSHOpen is the rule of the peer estate: inbound SSH allowed
// from anywhere. Its fields are aliases of the built-in table whose paths
// are not the default "properties.x" rule (each security rule keeps its
// settings under its own "properties").
var nsgSSHOpen = filepath.Join(scanExamples, "nsg-ssh-open.json")

// writeNSGEstate writes n network security groups as JSON Lines, each
// with one to three rules drawn at random, and returns how many have an
// open SSH rule.
func writeNSGEstate(t *testing.T, path string, n int) int {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	r := rand.New(rand.NewPCG(12, 1))
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	open := 0
	for i := range n {
		var rules []any
		isOpen := false
		for j := range 1 + r.IntN(3) {
			p := map[string]any{"access": pick("Allow", "Deny"), "direction": pick("Inbound", "Outbound"),
				"destinationPortRange": pick("22", "443", "*"), "sourceAddressPrefix": pick("*", "10.0.0.0/8", "Internet"),
				"protocol": "Tcp", "priority": 100 + j}
			if p["access"] == "Allow" && p["direction"] == "Inbound" && p["destinationPortRange"] != "443" && p["sourceAddressPrefix"] != "10.0.0.0/8" {
				isOpen = true
			}
			rules = append(rules, map[string]any{"name": fmt.Sprintf("r%d", j), "properties": p})
		}
		if isOpen {
			open++
		}
		doc := map[string]any{"id": fmt.Sprintf("/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg%d", i),
			"type": "Microsoft.Network/networkSecurityGroups", "name": fmt.Sprintf("nsg%d", i), "location": "westeurope",
			"properties": map[string]any{"securityRules": rules}}
		b, _ := json.Marshal(doc)
		w.Write(append(b, '\n'))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return open
}

func TestPolicyScanUsesBuiltInAliases(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	estate := filepath.Join(dir, "estate.jsonl")
	open := writeNSGEstate(t, estate, 300)
	if open == 0 || open == 300 {
		t.Fatalf("the generated estate must mix open and closed groups, has %d open", open)
	}
	out, code := runPolicyCLI(t, "policy", "scan", estate, "--policy", nsgSSHOpen, "-o", "json", "--fail-on", "none")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var rep struct {
		Summary struct {
			Resources    int64 `json:"resources"`
			NonCompliant int64 `json:"nonCompliantResults"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%.2000s", err, out)
	}
	if rep.Summary.Resources != 300 || rep.Summary.NonCompliant != int64(open) {
		t.Errorf("scan found %d non-compliant of %d, want %d of 300", rep.Summary.NonCompliant, rep.Summary.Resources, open)
	}
}

func TestUnknownAliasIsAnError(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	writePolicyTestFile(t, bad, `{"properties":{"mode":"All","policyRule":{"if":{"field":"Microsoft.Storage/storageAccounts/noSuchAlias","equals":true},"then":{"effect":"deny"}}}}`)
	good := filepath.Join(dir, "good.json")
	writePolicyTestFile(t, good, `{"properties":{"mode":"All","policyRule":{"if":{"field":"Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly","equals":false},"then":{"effect":"deny"}}}}`)
	res := filepath.Join(dir, "sa.json")
	writePolicyTestFile(t, res, `{"id":"/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a","type":"Microsoft.Storage/storageAccounts","name":"a","location":"eu","properties":{"supportsHttpsTrafficOnly":false}}`)
	extra := filepath.Join(dir, "extra.csv")
	writePolicyTestFile(t, extra, "Microsoft.Storage/storageAccounts/noSuchAlias,properties.noSuchAlias\n")
	cases := filepath.Join(dir, "cases.yaml")
	writePolicyTestFile(t, cases, `cases:
  - note: unknown_alias
    policy_rule: '{"if":{"field":"Microsoft.Storage/storageAccounts/noSuchAlias","equals":true},"then":{"effect":"deny"}}'
    resource: {type: Microsoft.Storage/storageAccounts, properties: {noSuchAlias: true}}
    want_effect: deny
`)
	tests := []struct {
		name string
		args []string
		want int
		text string
	}{
		{"lint refuses", []string{"policy", "lint", bad}, 1, "InvalidPolicyAlias"},
		{"lint accepts a known alias", []string{"policy", "lint", good}, 0, "ok"},
		{"lint with --allow-unknown-aliases", []string{"policy", "lint", bad, "--allow-unknown-aliases"}, 0, "ok"},
		{"lint with --aliases adding it", []string{"policy", "lint", bad, "--aliases", extra}, 0, "ok"},
		{"eval refuses", []string{"policy", "eval", "--definition", bad, "--resource", res}, 2, "noSuchAlias"},
		{"eval with a known alias", []string{"policy", "eval", "--definition", good, "--resource", res}, 0, "deny"},
		{"scan refuses", []string{"policy", "scan", res, "--policy", bad}, 2, "InvalidPolicyAlias"},
		{"scan with --allow-unknown-aliases", []string{"policy", "scan", res, "--policy", bad, "--allow-unknown-aliases", "--fail-on", "none"}, 0, ""},
		{"test fails the case", []string{"policy", "test", cases}, 1, "InvalidPolicyAlias"},
		{"test with --aliases", []string{"policy", "test", cases, "--aliases", extra}, 0, "1 passed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runPolicyCLI(t, tc.args...)
			if code != tc.want || !strings.Contains(out, tc.text) {
				t.Errorf("exit %d, want %d with %q; output:\n%s", code, tc.want, tc.text, out)
			}
		})
	}
}

func TestPolicyAliasesUpdateAndList(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	out, code := runPolicyCLI(t, "policy", "aliases", "list", "--namespace", "Microsoft.Network", "--filter", "securityRules[*].destinationPortRange", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var rows []aliasRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if !strings.HasPrefix(r.Name, "Microsoft.Network/") {
			t.Errorf("--namespace let %s through", r.Name)
		}
		if r.Name == "Microsoft.Network/networkSecurityGroups/securityRules[*].destinationPortRange" {
			found = r.DefaultPath == "properties.securityRules[*].properties.destinationPortRange"
		}
	}
	if !found {
		t.Fatalf("the built-in table lacks the NSG port alias or its path: %v", rows)
	}

	// update replaces the built-in table with the provider JSON.
	src := filepath.Join(t.TempDir(), "providers.json")
	writePolicyTestFile(t, src, `[{"namespace":"Microsoft.Contoso","resourceTypes":[{"resourceType":"widgets","aliases":[
	  {"name":"Microsoft.Contoso/widgets/size","paths":[{"path":"properties.dimensions.size","apiVersions":["2024-01-01"]}],
	   "defaultPath":"properties.size","defaultMetadata":{"type":"String","attributes":"Modifiable"}}]}]}]`)
	if out, code := runPolicyCLI(t, "policy", "aliases", "update", src); code != 0 || !strings.Contains(out, "stored 1 aliases") {
		t.Fatalf("update: exit %d: %s", code, out)
	}
	stored := filepath.Join(cfg, "steward", "policy-aliases.json.gz")
	f, err := os.Open(stored)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gzip.NewReader(f); err != nil {
		t.Errorf("stored table is not gzip: %v", err)
	}
	f.Close()
	if out, code := runPolicyCLI(t, "policy", "aliases", "list", "--filter", "widgets/size"); code != 0 || !strings.Contains(out, "properties.size") {
		t.Errorf("list after update: exit %d: %s", code, out)
	}
	if out, code := runPolicyCLI(t, "policy", "aliases", "list", "--filter", "supportsHttpsTrafficOnly"); code != 1 {
		t.Errorf("the updated table replaces the built-in one, but list still finds: %s", out)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	writePolicyTestFile(t, bad, `{"value": []}`)
	if out, code := runPolicyCLI(t, "policy", "aliases", "update", bad); code != 2 {
		t.Errorf("an empty table must be refused with exit 2, got %d: %s", code, out)
	}
}
