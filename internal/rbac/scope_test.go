package rbac

import (
	"reflect"
	"strings"
	"testing"
)

func TestScopeChainMatchesParentWalk(t *testing.T) {
	h := NewStaticHierarchy(map[string]string{"S1": "Corp"}, map[string]string{"corp": "Root", "root": "tenant"})
	ids := []string{
		"/",
		"/subscriptions/s1",
		"/subscriptions/S2",
		"/subscriptions/s1/resourceGroups/RG",
		"/subscriptions/s1/resourcegroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
		"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Sql/servers/s/databases/d",
		"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Sql/servers/s/databases",
		"/subscriptions/s1/providers/Microsoft.Compute",
		"/subscriptions/s1/providers/Microsoft.Security/pricings/vm",
		"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa/providers/Microsoft.Authorization/roleAssignments/ra",
		"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s/providers/Microsoft.Authorization/locks/l",
		"/providers/Microsoft.Management/managementGroups/corp",
		"/providers/Microsoft.Management/managementGroups/corp/providers/Microsoft.Authorization/roleAssignments/x",
		"/providers/Microsoft.Capacity/reservationOrders/o1",
		"/providers/Microsoft.Capacity",
		"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Web/sites/app/",
	}
	for _, id := range ids {
		for _, hier := range []Hierarchy{nil, h} {
			fast, err1 := scopeChain(id, hier)
			slow, err2 := scopeChainByParents(id, hier)
			if err1 != nil || err2 != nil || !reflect.DeepEqual(fast, slow) {
				t.Errorf("%s:\nfast %v (%v)\nslow %v (%v)", id, fast, err1, slow, err2)
			}
		}
	}
}

func TestScopeChainStopsAtHierarchyCycles(t *testing.T) {
	h := NewStaticHierarchy(map[string]string{"s1": "a"}, map[string]string{"a": "b", "b": "a"})
	if _, err := scopeChain("/subscriptions/s1/resourceGroups/rg", h); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle: %v", err)
	}
}

// FuzzScopeChain holds the prefix-based chain to the parent walk on
// arbitrary IDs.
func FuzzScopeChain(f *testing.F) {
	for _, s := range []string{"/", "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Sql/servers/s/databases/d",
		"/providers/Microsoft.Management/managementGroups/corp/providers/Microsoft.Authorization/roleAssignments/x",
		"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa/providers/Microsoft.Authorization/roleAssignments/ra"} {
		f.Add(s)
	}
	h := NewStaticHierarchy(map[string]string{"s1": "corp"}, map[string]string{"corp": "root"})
	f.Fuzz(func(t *testing.T, id string) {
		fast, err1 := scopeChain(id, h)
		slow, err2 := scopeChainByParents(id, h)
		if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %q (%v)\nslow %q (%v)", id, fast, err1, slow, err2)
		}
	})
}
