package reports

import (
	"sort"
	"strings"
	"testing"
	"time"
)

func TestRogueFindsResourcesOutsideApprovedPathsAndStaleImages(t *testing.T) {
	rg := "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/app"
	res := func(name, typ string, props map[string]any) map[string]any {
		return map[string]any{"id": rg + "/providers/" + typ + "/" + name, "type": typ, "properties": props}
	}
	gallery := rg + "/providers/Microsoft.Compute/galleries/golden/images/ubuntu"
	vm := func(name string, ref map[string]any) map[string]any {
		return res(name, "Microsoft.Compute/virtualMachines", map[string]any{"storageProfile": map[string]any{"imageReference": ref}})
	}
	resources := []map[string]any{
		res("bypipeline", "Microsoft.Storage/storageAccounts", nil),
		res("bytemplate", "Microsoft.Storage/storageAccounts", nil),
		res("byoutput", "Microsoft.Network/virtualNetworks", nil),
		res("byhand", "Microsoft.Storage/storageAccounts", nil),
		res("badtemplate", "Microsoft.KeyVault/vaults", nil),
		res("ancient", "Microsoft.KeyVault/vaults", nil),
		vm("vm-current", map[string]any{"id": gallery + "/versions/1.10.0"}),
		vm("vm-old", map[string]any{"id": gallery + "/versions/1.9.3"}),
		vm("vm-latest-ref", map[string]any{"id": gallery, "exactVersion": "1.10.0"}),
		vm("vm-marketplace", map[string]any{"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}),
		{"id": rg + "/providers/Microsoft.Resources/deployments/d1", "type": "Microsoft.Resources/deployments"},
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ev := func(name, typ, caller, corr string, at int) Event {
		return Event{Caller: caller, PrincipalID: caller + "-oid", Action: typ + "/write", ResourceID: rg + "/providers/" + typ + "/" + name,
			CorrelationID: corr, Time: t0.Add(time.Duration(at) * time.Hour)}
	}
	events := []Event{
		ev("bypipeline", "Microsoft.Storage/storageAccounts", "pipeline-app", "c1", 1),
		// A later hand edit does not make a pipeline's resource rogue.
		ev("bypipeline", "Microsoft.Storage/storageAccounts", "alice", "c9", 5),
		ev("bytemplate", "Microsoft.Storage/storageAccounts", "alice", "dep-ok", 2),
		ev("byhand", "Microsoft.Storage/storageAccounts", "bob", "c3", 3),
		ev("badtemplate", "Microsoft.KeyVault/vaults", "bob", "dep-bad", 4),
		ev("vm-current", "Microsoft.Compute/virtualMachines", "pipeline-app", "c5", 1),
		ev("vm-old", "Microsoft.Compute/virtualMachines", "pipeline-app", "c6", 1),
		ev("vm-latest-ref", "Microsoft.Compute/virtualMachines", "pipeline-app", "c7", 1),
		ev("vm-marketplace", "Microsoft.Compute/virtualMachines", "pipeline-app", "c8", 1),
	}
	deployments := []map[string]any{
		{"id": rg + "/providers/Microsoft.Resources/deployments/ok", "properties": map[string]any{"templateHash": "111", "correlationId": "dep-ok",
			"outputResources": []any{map[string]any{"id": rg + "/providers/Microsoft.Network/virtualNetworks/byoutput"}}}},
		{"id": rg + "/providers/Microsoft.Resources/deployments/bad", "properties": map[string]any{"templateHash": "222", "correlationId": "dep-bad"}},
	}
	got := Rogue(resources, events, deployments, RogueOptions{
		Pipelines:      []string{"PIPELINE-APP"},
		TemplateHashes: []string{"111"},
		GoldenImages:   []string{gallery + "/versions/1.9.3", gallery + "/versions/1.10.0"},
	})
	var lines []string
	for _, f := range got {
		lines = append(lines, lastSegment(f.ResourceID)+" "+f.Kind+" "+f.Severity)
	}
	sort.Strings(lines)
	want := []string{
		"ancient UnknownOrigin low",
		"badtemplate RogueResource high",
		"byhand RogueResource high",
		"vm-marketplace NotGoldenImage medium",
		"vm-old OutdatedGoldenImage medium",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range got {
		if lastSegment(f.ResourceID) == "badtemplate" && f.Details["templateHash"] != "222" {
			t.Errorf("badtemplate details: %v", f.Details)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	if compareVersions("1.10.0", "1.9.3") <= 0 || compareVersions("1.0", "1.0.0") != 0 || compareVersions("2.0.0", "10.0.0") >= 0 {
		t.Error("image versions compare as text, not numbers")
	}
}
