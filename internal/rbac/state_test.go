package rbac

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const exampleState = `{
  "roleDefinitions": [{
    "id": "/subscriptions/00000000-0000-0000-0000-0000000000aa/providers/Microsoft.Authorization/roleDefinitions/44444444-4444-4444-4444-444444444444",
    "properties": {"roleName": "vm-operator", "type": "CustomRole", "assignableScopes": ["/subscriptions/00000000-0000-0000-0000-0000000000aa"],
      "permissions": [{"actions": ["Microsoft.Compute/virtualMachines/start/action"]}]}
  }],
  "roleAssignments": [{
    "id": "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/app-rg/providers/Microsoft.Authorization/roleAssignments/55555555-5555-5555-5555-555555555555",
    "properties": {"roleDefinitionId": "/subscriptions/00000000-0000-0000-0000-0000000000aa/providers/Microsoft.Authorization/roleDefinitions/44444444-4444-4444-4444-444444444444",
      "principalId": "de000000-0000-0000-0000-0000000000d1", "principalType": "Group"}
  }],
  "groups": {"a11ce000-0000-0000-0000-000000000001": ["0b500000-0000-0000-0000-0000000000d2"],
             "0b500000-0000-0000-0000-0000000000d2": ["de000000-0000-0000-0000-0000000000d1"]},
  "hierarchy": {"subscriptions": {"00000000-0000-0000-0000-0000000000aa": "corp"}}
}`

func TestStateBuildsAnEngineWithNestedGroups(t *testing.T) {
	s, err := ReadState(strings.NewReader(exampleState))
	if err != nil {
		t.Fatal(err)
	}
	groups := s.GroupsOf(alice)
	if want := []string{"0b500000-0000-0000-0000-0000000000d2", devTeam}; !reflect.DeepEqual(groups, want) {
		t.Fatalf("groups %v, want %v", groups, want)
	}
	e, err := s.Engine()
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.Check(context.Background(), Request{PrincipalID: alice, Groups: groups, Action: "Microsoft.Compute/virtualMachines/start/action", Scope: vm})
	if err != nil || !d.Allowed {
		t.Fatalf("nested-group grant: %+v %v", d, err)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.RoleAssignments) != 1 || back.RoleAssignments[0].Scope != rg || back.RoleDefinitions[0].RoleName != "vm-operator" {
		t.Errorf("round trip lost data: %+v", back)
	}
}

func TestStateRejectsTyposAndBadEntries(t *testing.T) {
	for _, bad := range []string{
		`{"roleAsignments": []}`,
		`{"roleAssignments": [{"properties": {"roleDefinitionId": "nope", "principalId": "x", "scope": "/subscriptions/a"}}]}`,
		`not json`,
	} {
		s, err := ReadState(strings.NewReader(bad))
		if err == nil {
			_, err = s.Engine()
		}
		if err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	missing := filepath.Join(t.TempDir(), "missing.json")
	if s, err := LoadState(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file must be an error, got %v %v", s, err)
	}
	if s, err := LoadOrNewState(missing); err != nil || len(s.RoleAssignments) != 0 {
		t.Errorf("LoadOrNewState of a missing file: %v %v", s, err)
	}
}
