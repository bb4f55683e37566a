package rbac

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "regenerate builtin_roles.json from the shared corpus")

const corpusRoles = "../../../shared/corpus/roles/builtin-role-definitions.json"

// readCorpus returns the raw corpus entries by role name, or skips.
func readCorpus(t *testing.T) ([]json.RawMessage, map[string]json.RawMessage) {
	t.Helper()
	data, err := os.ReadFile(corpusRoles)
	if os.IsNotExist(err) {
		t.Skipf("shared corpus not present (%s); skipping; scripts/fetch-conformance.sh assembles it (see docs/contributing.md)", corpusRoles)
	}
	if err != nil {
		t.Fatal(err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	byName := map[string]json.RawMessage{}
	for _, r := range raw {
		var n struct{ Name string }
		if err := json.Unmarshal(r, &n); err != nil {
			t.Fatal(err)
		}
		byName[n.Name] = r
	}
	return raw, byName
}

// TestBuiltinRolesMatchCorpus checks that the embedded roles are exactly
// the listed names, each identical to Azure's published definition.
func TestBuiltinRolesMatchCorpus(t *testing.T) {
	_, byName := readCorpus(t)
	var want []json.RawMessage
	for _, n := range builtinRoleNames {
		r, ok := byName[n]
		if !ok {
			t.Fatalf("built-in role %q is not in the corpus", n)
		}
		want = append(want, r)
	}
	if *update {
		var buf bytes.Buffer
		buf.WriteString("[\n")
		for i, r := range want {
			var compact bytes.Buffer
			if err := json.Compact(&compact, r); err != nil {
				t.Fatal(err)
			}
			buf.Write(compact.Bytes())
			if i < len(want)-1 {
				buf.WriteString(",")
			}
			buf.WriteString("\n")
		}
		buf.WriteString("]\n")
		if err := os.WriteFile("builtin_roles.json", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Skip("regenerated builtin_roles.json; rerun without -update")
	}
	var got []json.RawMessage
	if err := json.Unmarshal(builtinRolesJSON, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("embedded %d roles, want %d", len(got), len(want))
	}
	for i := range want {
		var g, w any
		_ = json.Unmarshal(got[i], &g)
		_ = json.Unmarshal(want[i], &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("embedded role %q differs from the corpus; run go test -run TestBuiltinRolesMatchCorpus -update", builtinRoleNames[i])
		}
	}
}

func TestBuiltInCatalogHasWellKnownRoles(t *testing.T) {
	c, err := BuiltInCatalog()
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != len(builtinRoleNames) {
		t.Errorf("catalog has %d roles, want %d", c.Len(), len(builtinRoleNames))
	}
	for id, name := range map[string]string{
		OwnerRoleID: "Owner", ContributorRoleID: "Contributor", ReaderRoleID: "Reader",
		UserAccessAdministratorRoleID: "User Access Administrator", RBACAdministratorRoleID: "Role Based Access Control Administrator",
	} {
		rd, ok := c.Get(id)
		if !ok || rd.RoleName != name {
			t.Errorf("Get(%s) = %v, %v; want %s", id, rd, ok, name)
		}
	}
	kv, ok := c.Find("key vault data access administrator")
	if !ok || kv.Permissions[0].cond == nil {
		t.Fatalf("Key Vault Data Access Administrator missing or without its parsed condition")
	}
}

// TestImportAllCorpusRoles loads every role of Azure's list.
func TestImportAllCorpusRoles(t *testing.T) {
	raw, _ := readCorpus(t)
	f, err := os.Open(corpusRoles)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := NewCatalog()
	n, err := c.Import(f)
	if err != nil {
		t.Fatalf("import stopped after %d roles: %v", n, err)
	}
	if n != len(raw) || c.Len() != len(raw) {
		t.Fatalf("imported %d roles, catalog has %d, corpus has %d", n, c.Len(), len(raw))
	}
	unparsed := 0
	for _, rd := range c.List() {
		for _, p := range rd.Permissions {
			if p.condErr != nil {
				unparsed++
			}
		}
	}
	// One built-in condition mixes || and && without parentheses (see
	// abac/testdata/corpus_known_failures.txt); its permission grants nothing.
	if unparsed != 1 {
		t.Errorf("%d built-in permissions have unparsable conditions, want 1", unparsed)
	}
	t.Logf("imported %d roles", n)
}

// TestDelegationOverAllCorpusRoles runs the analysis over Azure's whole
// list: an Owner at a resource group can grant every role assignable there,
// and only the roles whose assignable scopes exclude it are refused.
func TestDelegationOverAllCorpusRoles(t *testing.T) {
	readCorpus(t)
	f, err := os.Open(corpusRoles)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := NewCatalog()
	if _, err := c.Import(f); err != nil {
		t.Fatal(err)
	}
	e := NewEngine(c)
	assign(t, e, "o", rg, OwnerRoleID, alice, "")
	rep, err := e.Analyze(context.Background(), DelegationRequest{PrincipalID: alice, Scope: rg, PrincipalTypes: []string{PrincipalUser}})
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, cell := range rep.Cells {
		rd, _ := c.Find(cell.RoleDefinitionID)
		wantAllowed := rd.AssignableAt(rg, nil)
		if cell.Allowed != wantAllowed || !cell.Allowed && cell.RefusedBy != "assignableScopes" {
			t.Errorf("%s: allowed %v (%s: %s)", cell.RoleName, cell.Allowed, cell.RefusedBy, cell.Reason)
		}
		if !cell.Allowed {
			refused++
		}
	}
	if len(rep.Cells) != 2*c.Len() || refused == 0 {
		t.Errorf("%d cells for %d roles, %d refused", len(rep.Cells), c.Len(), refused)
	}
	t.Logf("%d roles, %d cells refused for their assignable scopes, %d escalations", c.Len(), refused, len(rep.Escalations))
}
