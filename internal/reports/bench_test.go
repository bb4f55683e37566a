package reports

import (
	"fmt"
	"testing"
	"time"
)

// benchEstate is a subscription with 10,000 role assignments over 2,000
// principals and 100 resource groups, 100,000 activity rows of 90 days,
// and 10,000 resources (a tenth of them VMs).
func benchEstate(b *testing.B) ([]RoleAssignment, []RoleDefinition, []Operation, []Event, []map[string]any) {
	roles := builtInRoles(b)
	sub := "/subscriptions/00000000-0000-0000-0000-0000000000aa"
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	actions := []string{"Microsoft.Storage/storageAccounts/write", "Microsoft.Network/virtualNetworks/write",
		"Microsoft.Resources/subscriptions/resourceGroups/write", "Microsoft.KeyVault/vaults/write",
		"Microsoft.Compute/virtualMachines/write", "Microsoft.Authorization/roleAssignments/write"}
	assignments := make([]RoleAssignment, 0, 10000)
	for i := range 10000 {
		scope := fmt.Sprintf("%s/resourceGroups/rg%d", sub, i%100)
		r := roles[i%len(roles)]
		assignments = append(assignments, RoleAssignment{ID: fmt.Sprintf("%s/providers/Microsoft.Authorization/roleAssignments/a%d", scope, i),
			Scope: scope, PrincipalID: fmt.Sprintf("p%d", i%2000), PrincipalType: "User", RoleDefinitionID: r.ID})
	}
	ops := make([]Operation, 0, 100000)
	events := make([]Event, 0, 100000)
	resources := make([]map[string]any, 0, 10000)
	for i := range 100000 {
		id := fmt.Sprintf("%s/resourceGroups/rg%d/providers/Microsoft.Storage/storageAccounts/s%d", sub, i%100, i%10000)
		at := now.Add(-time.Duration(i%(90*24)) * time.Hour)
		ops = append(ops, Operation{PrincipalID: fmt.Sprintf("p%d", i%2500), Action: actions[i%len(actions)], Scope: id, Time: at})
		events = append(events, Event{Caller: fmt.Sprintf("p%d", i%2500), Action: "Microsoft.Storage/storageAccounts/write", ResourceID: id,
			CorrelationID: fmt.Sprintf("c%d", i%5000), Time: at})
	}
	for i := range 10000 {
		id := fmt.Sprintf("%s/resourceGroups/rg%d/providers/Microsoft.Storage/storageAccounts/s%d", sub, i%100, i)
		doc := map[string]any{"id": id, "type": "Microsoft.Storage/storageAccounts"}
		if i%10 == 0 {
			doc = map[string]any{"id": id, "type": "Microsoft.Compute/virtualMachines", "properties": map[string]any{"storageProfile": map[string]any{
				"imageReference": map[string]any{"id": fmt.Sprintf("%s/resourceGroups/img/providers/Microsoft.Compute/galleries/g/images/base/versions/1.%d.0", sub, i%4)}}}}
		}
		resources = append(resources, doc)
	}
	return assignments, roles, ops, events, resources
}

// BenchmarkAccess is the access report over 10,000 assignments and
// 100,000 activity rows.
func BenchmarkAccess(b *testing.B) {
	assignments, roles, ops, _, _ := benchEstate(b)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if f := Access(assignments, roles, ops, AccessOptions{Now: now, Window: 90 * 24 * time.Hour}); len(f) == 0 {
			b.Fatal("no findings")
		}
	}
}

// BenchmarkRogue is the rogue report over 10,000 resources and 100,000
// activity rows.
func BenchmarkRogue(b *testing.B) {
	_, _, _, events, resources := benchEstate(b)
	sub := "/subscriptions/00000000-0000-0000-0000-0000000000aa"
	opt := RogueOptions{Pipelines: []string{"p1", "p2"}, GoldenImages: []string{sub + "/resourceGroups/img/providers/Microsoft.Compute/galleries/g/images/base/versions/1.3.0"}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if f := Rogue(resources, events, nil, opt); len(f) == 0 {
			b.Fatal("no findings")
		}
	}
}
