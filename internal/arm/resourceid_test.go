package arm

import (
	"strings"
	"testing"
)

func TestParseResourceIDKinds(t *testing.T) {
	tests := []struct {
		id, kind, typ, name, parent string
	}{
		{"/", "root", "", "", ""},
		{"/subscriptions/S1", "subscription", "Microsoft.Resources/subscriptions", "S1", "/"},
		{"/subscriptions/s1/resourcegroups/rg", "resourceGroup", "Microsoft.Resources/subscriptions/resourceGroups", "rg", "/subscriptions/s1"},
		{"/providers/Microsoft.Management/managementGroups/mg1", "managementGroup", "Microsoft.Management/managementGroups", "mg1", "/"},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Sql/servers/srv/databases/db", "resource", "Microsoft.Sql/servers/databases", "db",
			"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Sql/servers/srv"},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Sql/servers/srv", "resource", "Microsoft.Sql/servers", "srv", "/subscriptions/s1/resourceGroups/rg"},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.Authorization/roleAssignments/ra",
			"resource", "Microsoft.Authorization/roleAssignments", "ra", "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"},
		{"/subscriptions/s1/providers/Microsoft.Authorization/policyAssignments/pa", "resource", "Microsoft.Authorization/policyAssignments", "pa", "/subscriptions/s1"},
	}
	for _, tt := range tests {
		r, err := ParseResourceID(tt.id)
		if err != nil {
			t.Fatalf("ParseResourceID(%q): %v", tt.id, err)
		}
		if got := r.Kind().String(); got != tt.kind {
			t.Errorf("%q kind = %s, want %s", tt.id, got, tt.kind)
		}
		if got := r.ResourceType(); got != tt.typ {
			t.Errorf("%q type = %s, want %s", tt.id, got, tt.typ)
		}
		if got := r.Name(); got != tt.name {
			t.Errorf("%q name = %s, want %s", tt.id, got, tt.name)
		}
		if p := r.ParentScope(); tt.parent == "" {
			if p != nil {
				t.Errorf("%q parent = %s, want none", tt.id, p)
			}
		} else if p == nil || !EqualIDs(p.String(), tt.parent) {
			t.Errorf("%q parent = %v, want %s", tt.id, p, tt.parent)
		}
		if !EqualIDs(r.String(), tt.id) {
			t.Errorf("round trip %q -> %q", tt.id, r.String())
		}
	}
}

func TestParseResourceIDRejects(t *testing.T) {
	for _, id := range []string{"", "subscriptions/x", "/subscriptions", "/subscriptions/s//x", "/subscriptions/s/resourceGroups", "/foo/bar"} {
		if _, err := ParseResourceID(id); err == nil {
			t.Errorf("ParseResourceID(%q) succeeded, want error", id)
		}
	}
}

func TestIsScopeAncestor(t *testing.T) {
	tests := []struct {
		scope, id string
		want      bool
	}{
		{"/", "/subscriptions/a", true},
		{"/subscriptions/a", "/subscriptions/a", true},
		{"/subscriptions/A", "/subscriptions/a/resourceGroups/rg", true},
		{"/subscriptions/a", "/subscriptions/ab", false},
		{"/subscriptions/a/resourceGroups/rg", "/subscriptions/a", false},
		{"/subscriptions/a/resourceGroups/rg/", "/subscriptions/a/resourcegroups/RG/providers/x/y/z", true},
	}
	for _, tt := range tests {
		if got := IsScopeAncestor(tt.scope, tt.id); got != tt.want {
			t.Errorf("IsScopeAncestor(%q, %q) = %v, want %v", tt.scope, tt.id, got, tt.want)
		}
	}
}

func TestCompareAPIVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2020-01-01", "2019-06-01", 1},
		{"2020-01-01-preview", "2020-01-01", -1},
		{"2020-01-01", "2020-01-01", 0},
		{"2021-01-01-preview", "2020-12-01", 1},
	}
	for _, tt := range tests {
		if got := CompareAPIVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareAPIVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestAppendSegmentsSplitsAsStringsSplit(t *testing.T) {
	for _, s := range []string{"", "a", "a/b", "/a", "a/", "//", "subscriptions/x/resourceGroups/g/providers/N/t/n",
		strings.Repeat("s/", 40) + "end"} {
		got := appendSegments(nil, s)
		want := strings.Split(s, "/")
		if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("appendSegments(%q) = %q, want %q", s, got, want)
		}
	}
}
