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

// BenchmarkNetwork is the network report over 10,000 network interfaces
// in 100 subnets, each subnet and every tenth interface with an NSG of 20
// rules.
func BenchmarkNetwork(b *testing.B) {
	rg := "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/net/providers/Microsoft.Network/"
	var estate []map[string]any
	nsg := func(name string) map[string]any {
		var rules []any
		for j := range 20 {
			access := "Allow"
			if j%3 == 0 {
				access = "Deny"
			}
			rules = append(rules, map[string]any{"name": fmt.Sprintf("r%d", j), "properties": map[string]any{"priority": 100 + 10*j,
				"direction": "Inbound", "access": access, "protocol": "Tcp", "sourceAddressPrefix": "Internet", "sourcePortRange": "*",
				"destinationAddressPrefix": "*", "destinationPortRange": fmt.Sprint(20 + j)}})
		}
		return map[string]any{"id": rg + "networkSecurityGroups/" + name, "type": "Microsoft.Network/networkSecurityGroups",
			"properties": map[string]any{"securityRules": rules}}
	}
	var subnets []any
	for s := range 100 {
		estate = append(estate, nsg(fmt.Sprintf("subnet%d", s)))
		subnets = append(subnets, map[string]any{"name": fmt.Sprintf("s%d", s), "properties": map[string]any{
			"addressPrefix": fmt.Sprintf("10.%d.0.0/16", s), "networkSecurityGroup": map[string]any{"id": rg + fmt.Sprintf("networkSecurityGroups/subnet%d", s)}}})
	}
	estate = append(estate, map[string]any{"id": rg + "virtualNetworks/vnet", "type": "Microsoft.Network/virtualNetworks",
		"properties": map[string]any{"subnets": subnets}})
	for i := range 10000 {
		props := map[string]any{"ipConfigurations": []any{map[string]any{"name": "ip", "properties": map[string]any{
			"subnet":          map[string]any{"id": rg + fmt.Sprintf("virtualNetworks/vnet/subnets/s%d", i%100)},
			"publicIPAddress": map[string]any{"id": rg + fmt.Sprintf("publicIPAddresses/ip%d", i)}}}}}
		if i%10 == 0 {
			estate = append(estate, nsg(fmt.Sprintf("nic%d", i)))
			props["networkSecurityGroup"] = map[string]any{"id": rg + fmt.Sprintf("networkSecurityGroups/nic%d", i)}
		}
		estate = append(estate, map[string]any{"id": rg + fmt.Sprintf("networkInterfaces/nic%d", i), "type": "Microsoft.Network/networkInterfaces", "properties": props})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if f, err := Network(estate); err != nil || len(f) == 0 {
			b.Fatal("no findings", err)
		}
	}
}

// BenchmarkLogging is the logging report over 10,000 resources of judged
// types (half with a diagnostic setting) and 1,000 VMs (half associated).
func BenchmarkLogging(b *testing.B) {
	rg := "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/app/providers/"
	var estate []map[string]any
	for i := range 10000 {
		id := rg + fmt.Sprintf("Microsoft.KeyVault/vaults/kv%d", i)
		estate = append(estate, map[string]any{"id": id, "type": "Microsoft.KeyVault/vaults"})
		if i%2 == 0 {
			estate = append(estate, map[string]any{"id": id + "/providers/Microsoft.Insights/diagnosticSettings/d", "type": "Microsoft.Insights/diagnosticSettings",
				"properties": map[string]any{"workspaceId": rg + "Microsoft.OperationalInsights/workspaces/w"}})
		}
	}
	for i := range 1000 {
		id := rg + fmt.Sprintf("Microsoft.Compute/virtualMachines/vm%d", i)
		estate = append(estate, map[string]any{"id": id, "type": "Microsoft.Compute/virtualMachines"})
		if i%2 == 0 {
			estate = append(estate, map[string]any{"id": id + "/providers/Microsoft.Insights/dataCollectionRuleAssociations/a", "type": "Microsoft.Insights/dataCollectionRuleAssociations"})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if f := Logging(estate); len(f) != 5500 {
			b.Fatalf("%d findings, want 5,500", len(f))
		}
	}
}

// BenchmarkCredentials assesses 10,000 credentials (vault objects and
// application secrets of every age).
func BenchmarkCredentials(b *testing.B) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	creds := make([]Credential, 0, 10000)
	for i := range 10000 {
		c := Credential{Kind: []string{KindVaultSecret, KindVaultKey, KindAppPassword}[i%3], Owner: fmt.Sprintf("o%d", i%100),
			Name: fmt.Sprintf("c%d", i), ID: fmt.Sprintf("https://kv%d.vault.azure.net/secrets/c%d/0123456789abcdef", i%100, i),
			Created: now.Add(-time.Duration(i%400) * 24 * time.Hour), Enabled: true, Rotatable: i%3 == 1}
		if i%4 != 0 {
			c.Expires = c.Created.Add(time.Duration(30+i%700) * 24 * time.Hour)
		}
		creds = append(creds, c)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if f := CredentialFindings(AssessCredentials(creds, now)); len(f) == 0 {
			b.Fatal("no findings")
		}
	}
}
