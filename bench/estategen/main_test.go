package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/policy/scan"
)

func estate(t *testing.T, n int, seed uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := generate(&buf, n, seed); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := estate(t, 2000, 20), estate(t, 2000, 20)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with seed 20 wrote different bytes")
	}
	if bytes.Equal(a, estate(t, 2000, 21)) {
		t.Fatal("seeds 20 and 21 wrote the same bytes")
	}
	var rs []map[string]any
	if err := json.Unmarshal(a, &rs); err != nil {
		t.Fatalf("not a JSON array: %v", err)
	}
	if len(rs) != 2000 {
		t.Fatalf("%d resources, want 2000", len(rs))
	}
	types := map[string]int{}
	for _, r := range rs {
		types[r["type"].(string)]++
	}
	for _, typ := range []string{"Microsoft.Network/networkSecurityGroups", "Microsoft.Authorization/roleAssignments",
		"Microsoft.Storage/storageAccounts", "Microsoft.Compute/virtualMachines", "Microsoft.KeyVault/vaults"} {
		if types[typ] < 200 {
			t.Errorf("%d resources of type %s, want at least 200 of 2000", types[typ], typ)
		}
	}
	if len(types) != 5 {
		t.Errorf("types %v, want the 5 of the mix", types)
	}
	// az prints an indented array: the elements start at two spaces
	if !bytes.HasPrefix(a, []byte("[\n  {\n    \"")) || !bytes.HasSuffix(a, []byte("\n  }\n]\n")) {
		t.Errorf("not indented as az prints: %q ... %q", a[:20], a[len(a)-20:])
	}
	if got := estate(t, 0, 20); string(got) != "[]\n" {
		t.Errorf("empty estate %q, want []", got)
	}
}

// expected computes the non-compliant (definition, resource ID) pairs of
// bench/opa/definitions from the decoded estate, in plain Go.
func expected(t *testing.T, data []byte) map[string][]string {
	t.Helper()
	var rs []map[string]any
	if err := json.Unmarshal(data, &rs); err != nil {
		t.Fatal(err)
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return strings.ToLower(s) }
	out := map[string][]string{}
	add := func(def string, r map[string]any) { out[def] = append(out[def], r["id"].(string)) }
	for _, r := range rs {
		props, _ := r["properties"].(map[string]any)
		switch str(r, "type") {
		case "microsoft.network/networksecuritygroups":
			rules, _ := props["securityRules"].([]any)
			for _, x := range rules {
				p := x.(map[string]any)["properties"].(map[string]any)
				if str(p, "access") == "allow" && str(p, "direction") == "inbound" &&
					slices.Contains([]string{"22", "*"}, str(p, "destinationPortRange")) &&
					slices.Contains([]string{"*", "internet", "0.0.0.0/0"}, str(p, "sourceAddressPrefix")) {
					add("nsg-ssh-open", r)
					break
				}
			}
		case "microsoft.storage/storageaccounts":
			if props["supportsHttpsTrafficOnly"] == false || str(props, "minimumTlsVersion") != "tls1_2" {
				add("storage-secure-transfer", r)
			}
		case "microsoft.authorization/roleassignments":
			if strings.HasSuffix(str(props, "roleDefinitionId"), "/8e3af657-a8ff-443d-a75c-2fe8c4bcb635") &&
				str(props, "principalType") == "serviceprincipal" {
				add("owner-service-principal", r)
			}
		}
		if loc, ok := r["location"]; ok {
			if !slices.Contains([]string{"westeurope", "northeurope", "global"}, strings.ToLower(loc.(string))) {
				add("allowed-locations", r)
			}
			tags, _ := r["tags"].(map[string]any)
			if !slices.ContainsFunc(slices.Collect(maps.Keys(tags)), func(k string) bool { return strings.EqualFold(k, "costCenter") }) {
				add("require-cost-center", r)
			}
		}
	}
	return out
}

// findings collects the non-compliant results of a scan per definition.
type findings struct{ byDef map[string][]string }

func (f *findings) Finding(x *scan.Finding) error {
	if x.State == policy.StateNonCompliant {
		f.byDef[x.DefinitionName] = append(f.byDef[x.DefinitionName], x.ResourceID)
	}
	return nil
}
func (f *findings) Malformed(e *scan.RecordError) error { return e }
func (f *findings) Diff(*scan.DiffEntry) error          { return nil }
func (f *findings) Finish(*scan.Report) error           { return nil }

// TestScanFindsWhatTheRulesSay scans a generated estate with the
// benchmark's definitions and compares Steward's findings with the
// rules computed directly from the data.
func TestScanFindsWhatTheRulesSay(t *testing.T) {
	data := estate(t, 3000, 20)
	path := filepath.Join(t.TempDir(), "estate.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	aliases, err := policy.BuiltinAliases()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := scan.LoadPlan(scan.Policies{PolicyPaths: []string{"../opa/definitions"}, Aliases: aliases})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Problems) > 0 || len(plan.Targets) != 5 {
		t.Fatalf("plan: %d targets, problems %v", len(plan.Targets), plan.Problems)
	}
	got := &findings{byDef: map[string][]string{}}
	now := func() time.Time { return time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC) }
	rep, err := scan.Run(context.Background(), scan.FileEstate(path), plan, scan.Config{Now: now, Aliases: aliases, Workers: 2}, got)
	if err != nil {
		t.Fatal(err)
	}
	want := expected(t, data)
	if rep.Resources != 3000 {
		t.Errorf("%d resources scanned, want 3000", rep.Resources)
	}
	total := 0
	for _, def := range []string{"nsg-ssh-open", "storage-secure-transfer", "owner-service-principal", "allowed-locations", "require-cost-center"} {
		w, g := want[def], got.byDef[def]
		slices.Sort(w)
		slices.Sort(g)
		if len(w) == 0 {
			t.Errorf("%s: the estate has no non-compliant resource, the test shows nothing", def)
		}
		if !slices.Equal(w, g) {
			t.Errorf("%s: %d non-compliant found, want %d", def, len(g), len(w))
		}
		total += len(w)
	}
	if rep.NonCompliant != int64(total) {
		t.Errorf("report counts %d non-compliant results, want %d", rep.NonCompliant, total)
	}
}
