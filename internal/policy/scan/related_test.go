package scan

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/policy"
)

func TestRelatedLookup(t *testing.T) {
	sql := rgID + "/providers/Microsoft.Sql/servers/sql1"
	vm := rgID + "/providers/Microsoft.Compute/virtualMachines/vm1"
	docs := []map[string]any{
		{"id": sql + "/auditingSettings/default", "type": "Microsoft.Sql/servers/auditingSettings", "name": "default"},
		{"id": rgID + "/providers/Microsoft.Sql/servers/sql2/auditingSettings/default", "type": "Microsoft.Sql/servers/auditingSettings", "name": "default"},
		// A subscription's setting (the activity log's) comes first: the
		// type is still an extension type.
		{"id": subID + "/providers/Microsoft.Insights/diagnosticSettings/activity", "type": "Microsoft.Insights/diagnosticSettings", "name": "activity"},
		{"id": vm + "/providers/Microsoft.Insights/diagnosticSettings/ds1", "type": "Microsoft.Insights/diagnosticSettings", "name": "ds1"},
		{"id": rgID + "/providers/Microsoft.Compute/virtualMachines/vm2/providers/Microsoft.Insights/diagnosticSettings/ds2", "type": "Microsoft.Insights/diagnosticSettings", "name": "ds2"},
		{"id": rgID + "/providers/Microsoft.Network/networkWatchers/nw1", "type": "Microsoft.Network/networkWatchers", "name": "nw1"},
		{"id": subID + "/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/nw2", "type": "Microsoft.Network/networkWatchers", "name": "nw2"},
		{"id": subID + "/providers/Microsoft.Security/pricings/VirtualMachines", "type": "Microsoft.Security/pricings", "name": "VirtualMachines"},
		{"id": "/subscriptions/other/providers/Microsoft.Security/pricings/VirtualMachines", "type": "Microsoft.Security/pricings", "name": "VirtualMachines"},
	}
	x := NewIndex(map[string]bool{"microsoft.sql/servers/auditingsettings": true, "microsoft.insights/diagnosticsettings": true,
		"microsoft.network/networkwatchers": true, "microsoft.security/pricings": true}, false)
	for _, d := range docs {
		x.Add(d)
	}
	resource := func(id, typ string) *policy.Resource {
		return policy.NewResource(map[string]any{"id": id, "type": typ})
	}
	tests := []struct {
		name string
		q    policy.RelatedQuery
		want string
	}{
		{"child type: the resource's own children", policy.RelatedQuery{Resource: resource(sql, "Microsoft.Sql/servers"), Type: "Microsoft.Sql/servers/auditingSettings"}, "default"},
		{"child type with a name", policy.RelatedQuery{Resource: resource(sql, "Microsoft.Sql/servers"), Type: "Microsoft.Sql/servers/auditingSettings", Name: "default"}, "default"},
		{"child type with another name", policy.RelatedQuery{Resource: resource(sql, "Microsoft.Sql/servers"), Type: "Microsoft.Sql/servers/auditingSettings", Name: "other"}, ""},
		{"child type with a wildcard full name", policy.RelatedQuery{Resource: resource(sql, "Microsoft.Sql/servers"), Type: "Microsoft.Sql/servers/auditingSettings", Name: "sql1/?"}, "default"},
		{"extension type: the resource's own", policy.RelatedQuery{Resource: resource(vm, "Microsoft.Compute/virtualMachines"), Type: "Microsoft.Insights/diagnosticSettings"}, "ds1"},
		{"extension type: none on a resource without", policy.RelatedQuery{Resource: resource(rgID+"/providers/Microsoft.Compute/virtualMachines/vm3", "Microsoft.Compute/virtualMachines"), Type: "Microsoft.Insights/diagnosticSettings"}, ""},
		{"resource group by default", policy.RelatedQuery{Resource: resource(vm, "Microsoft.Compute/virtualMachines"), Type: "Microsoft.Network/networkWatchers"}, "nw1"},
		{"resourceGroupName", policy.RelatedQuery{Resource: resource(vm, "Microsoft.Compute/virtualMachines"), Type: "Microsoft.Network/networkWatchers", ResourceGroupName: "networkwatcherrg"}, "nw2"},
		{"existenceScope subscription", policy.RelatedQuery{Resource: resource(vm, "Microsoft.Compute/virtualMachines"), Type: "Microsoft.Network/networkWatchers", ExistenceScope: "subscription"}, "nw1 nw2"},
		{"subscription-level related resources", policy.RelatedQuery{Resource: resource(subID, "Microsoft.Resources/subscriptions"), Type: "Microsoft.Security/pricings", ExistenceScope: "Subscription"}, "VirtualMachines"},
		{"a type the estate lacks", policy.RelatedQuery{Resource: resource(vm, "Microsoft.Compute/virtualMachines"), Type: "Microsoft.Compute/virtualMachines/extensions"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := x.Related(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, d := range got {
				names = append(names, lookupString(d, "name"))
			}
			sort.Strings(names)
			if s := strings.Join(names, " "); s != tc.want {
				t.Errorf("related %q, want %q", s, tc.want)
			}
		})
	}
}

func TestIndexWantsOnlyContainersAndRelatedTypes(t *testing.T) {
	x := NewIndex(map[string]bool{"microsoft.sql/servers/auditingsettings": true}, false)
	tests := []struct {
		raw  string
		want bool
	}{
		{`{"id":"` + rgID + `","type":"Microsoft.Resources/subscriptions/resourceGroups"}`, true},
		{`{"id":"` + rgID + `/providers/Microsoft.Sql/servers/s/auditingSettings/default","type":"microsoft.sql/servers/auditingsettings"}`, true},
		{`{"id":"` + rgID + `/providers/Microsoft.Sql/servers/s","type":"Microsoft.Sql/servers"}`, false},
		{`{"id":"x","type":"Microsoft.Sql\/servers\/auditingSettings"}`, true},
	}
	for _, tc := range tests {
		if got := x.Wants([]byte(tc.raw)); got != tc.want {
			t.Errorf("Wants(%s) = %v, want %v", tc.raw, got, tc.want)
		}
	}
	// the first pass's filter (no lower-cased copy) answers as Wants does
	filter := x.filter()
	more := []string{`MICROSOFT.RESOURCES/x`, `mIcRoSoFt.ReSoUrCeS/`, `microsoft.resources`, `Microsoft.Resource/s`,
		`"Microsoft.SQL/Servers/AuditingSettings"`, `microsoft.sql/servers/auditingsettings`, `\u212a microsoft.resources/`,
		"\u212aMICROSOFT.RESOURCES/", "Microsoft.Resources/ \u00e9", `auditingsettings"`, `/`, `"`, ``}
	for _, tc := range tests {
		more = append(more, tc.raw)
	}
	for _, raw := range more {
		if got, want := filter([]byte(raw)), x.Wants([]byte(raw)); got != want {
			t.Errorf("filter(%s) = %v, Wants %v", raw, got, want)
		}
	}
}

func TestContainerValuesComeFromTheEstate(t *testing.T) {
	x := NewIndex(nil, false)
	x.Add(map[string]any{"id": rgID, "type": typeResourceGroup, "name": "rg1", "location": "westeurope"})
	rg, sub := x.containerValues(rgID + "/providers/Microsoft.Web/sites/w")
	if rg["location"] != "westeurope" || sub["subscriptionId"] != "00000000-0000-0000-0000-000000000001" {
		t.Errorf("resourceGroup() %v, subscription() %v", rg, sub)
	}
	rg, _ = x.containerValues(subID + "/resourceGroups/unknown/providers/Microsoft.Web/sites/w")
	if rg["name"] != "unknown" || rg["managedBy"] != "" {
		t.Errorf("resourceGroup() of a group the estate lacks: %v", rg)
	}
}
