package reports

import (
	"strings"
	"testing"
)

func TestLogging(t *testing.T) {
	rg := "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/app/providers/"
	ws := rg + "Microsoft.OperationalInsights/workspaces/central"
	res := func(id, typ string, props map[string]any) map[string]any {
		return map[string]any{"id": id, "type": typ, "properties": props}
	}
	estate := []map[string]any{
		res(rg+"Microsoft.KeyVault/vaults/logged", "Microsoft.KeyVault/vaults", nil),
		res(rg+"Microsoft.KeyVault/vaults/logged/providers/Microsoft.Insights/diagnosticSettings/to-la", "Microsoft.Insights/diagnosticSettings", map[string]any{"workspaceId": ws}),
		res(rg+"Microsoft.KeyVault/vaults/archived", "Microsoft.KeyVault/vaults", nil),
		res(rg+"Microsoft.KeyVault/vaults/archived/providers/Microsoft.Insights/diagnosticSettings/to-storage", "Microsoft.Insights/diagnosticSettings", map[string]any{"storageAccountId": "x"}),
		res(rg+"Microsoft.Network/networkSecurityGroups/silent", "Microsoft.Network/networkSecurityGroups", nil),
		res(rg+"Microsoft.Compute/virtualMachines/vm1", "Microsoft.Compute/virtualMachines", nil),
		res(rg+"Microsoft.Compute/virtualMachines/vm1/providers/Microsoft.Insights/dataCollectionRuleAssociations/a", "Microsoft.Insights/dataCollectionRuleAssociations", nil),
		res(rg+"Microsoft.Compute/virtualMachines/vm2", "Microsoft.Compute/virtualMachines", nil),
		res(rg+"Microsoft.Contoso/widgets/w", "Microsoft.Contoso/widgets", nil),
		res(ws, "Microsoft.OperationalInsights/workspaces", nil),
		res(ws+"/providers/Microsoft.Insights/diagnosticSettings/self", "Microsoft.Insights/diagnosticSettings", map[string]any{"workspaceId": ws}),
	}
	got := map[string]string{}
	for _, f := range Logging(estate) {
		got[f.ResourceID[strings.LastIndexByte(f.ResourceID, '/')+1:]] = f.Kind + ": " + f.Message
	}
	want := map[string]string{"archived": "NoDiagnosticSetting: has diagnostic settings, but none",
		"silent": "NoDiagnosticSetting: has no diagnostic setting", "vm2": "NoDataCollectionRule"}
	if len(got) != len(want) {
		t.Errorf("findings: %v", got)
	}
	for k, v := range want {
		if !strings.HasPrefix(got[k], v) {
			t.Errorf("%s: %q, want %q...", k, got[k], v)
		}
	}
}
