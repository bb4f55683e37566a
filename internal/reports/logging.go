package reports

import (
	"sort"
	"strings"
)

// diagnosticTypes are resource types whose platform logs reach a
// workspace only through a diagnostic setting (the resource log categories
// Azure Monitor documents for them). Types not listed are not judged.
var diagnosticTypes = map[string]bool{
	"microsoft.keyvault/vaults":                    true,
	"microsoft.network/networksecuritygroups":      true,
	"microsoft.network/applicationgateways":        true,
	"microsoft.network/azurefirewalls":             true,
	"microsoft.network/publicipaddresses":          true,
	"microsoft.network/loadbalancers":              true,
	"microsoft.sql/servers/databases":              true,
	"microsoft.web/sites":                          true,
	"microsoft.containerservice/managedclusters":   true,
	"microsoft.storage/storageaccounts":            true,
	"microsoft.logic/workflows":                    true,
	"microsoft.eventhub/namespaces":                true,
	"microsoft.servicebus/namespaces":              true,
	"microsoft.cognitiveservices/accounts":         true,
	"microsoft.documentdb/databaseaccounts":        true,
	"microsoft.apimanagement/service":              true,
	"microsoft.recoveryservices/vaults":            true,
	"microsoft.automation/automationaccounts":      true,
	"microsoft.datafactory/factories":              true,
	"microsoft.network/virtualnetworkgateways":     true,
	"microsoft.dbforpostgresql/flexibleservers":    true,
	"microsoft.dbformysql/flexibleservers":         true,
	"microsoft.operationalinsights/workspaces":     true,
	"microsoft.insights/components":                true,
	"microsoft.network/frontdoors":                 true,
	"microsoft.cdn/profiles":                       true,
	"microsoft.machinelearningservices/workspaces": true,
}

const (
	typeDiagnosticSetting = "microsoft.insights/diagnosticsettings"
	typeDCRAssociation    = "microsoft.insights/datacollectionruleassociations"
	typeVM                = "microsoft.compute/virtualmachines"
	typeVMSS              = "microsoft.compute/virtualmachinescalesets"
)

// Logging finds resources whose logs are not collected: resources of the
// types above without a diagnostic setting that sends to a Log Analytics
// workspace, and virtual machines and scale sets without a data collection
// rule association (so no agent collects their guest logs). Diagnostic
// settings and associations are extension resources whose IDs start with
// the resource's ID.
func Logging(resources []map[string]any) []Finding {
	toWorkspace := map[string]bool{}
	otherSink := map[string]bool{}
	withDCR := map[string]bool{}
	for _, r := range resources {
		id, _ := r["id"].(string)
		typ, _ := r["type"].(string)
		lid := strings.ToLower(id)
		switch strings.ToLower(typ) {
		case typeDiagnosticSetting:
			target := extensionTarget(lid)
			props, _ := r["properties"].(map[string]any)
			if ws, _ := props["workspaceId"].(string); ws != "" {
				toWorkspace[target] = true
			} else {
				otherSink[target] = true
			}
		case typeDCRAssociation:
			withDCR[extensionTarget(lid)] = true
		}
	}
	var out []Finding
	for _, r := range resources {
		id, _ := r["id"].(string)
		typ, _ := r["type"].(string)
		lid, lt := strings.ToLower(id), strings.ToLower(typ)
		switch {
		case diagnosticTypes[lt] && !toWorkspace[lid]:
			msg := "has no diagnostic setting sending its logs to a Log Analytics workspace"
			if otherSink[lid] {
				msg = "has diagnostic settings, but none sends to a Log Analytics workspace (storage or event hub only)"
			}
			out = append(out, Finding{Report: "logging", Kind: "NoDiagnosticSetting", Severity: Medium, ResourceID: id, Message: msg,
				Details: map[string]any{"type": typ}})
		case (lt == typeVM || lt == typeVMSS) && !withDCR[lid]:
			out = append(out, Finding{Report: "logging", Kind: "NoDataCollectionRule", Severity: Medium, ResourceID: id,
				Message: "has no data collection rule association: no agent collects its guest logs",
				Details: map[string]any{"type": typ}})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ResourceID < out[j].ResourceID })
	return out
}

// extensionTarget is the resource an extension resource ID hangs off:
// the part before its last "/providers/".
func extensionTarget(id string) string {
	if i := strings.LastIndex(id, "/providers/"); i > 0 {
		return id[:i]
	}
	return id
}
