package arm

import (
	"slices"
	"strings"
)

// Spec files (keys of specVersions) of the ARM operations Steward serves.
const (
	specResources     = "resources/resource-manager/Microsoft.Resources/resources.json"
	specDeployments   = "resources/resource-manager/Microsoft.Resources/deployments.json"
	specSubscriptions = "resources/resource-manager/Microsoft.Resources/subscriptions.json"
	specLocks         = "resources/resource-manager/Microsoft.Authorization/locks.json"
	specPolicy        = "resources/resource-manager/Microsoft.Authorization/policy.json"
	specPolicyAll     = "resources/resource-manager/Microsoft.Authorization/openapi.json"
	specPolicyDefs    = "resources/resource-manager/Microsoft.Authorization/policyDefinitions.json"
	specPolicySets    = "resources/resource-manager/Microsoft.Authorization/policySetDefinitions.json"
	specPolicyAssigns = "resources/resource-manager/Microsoft.Authorization/policyAssignments.json"
	specPolicyExempts = "resources/resource-manager/Microsoft.Authorization/policyExemptions.json"
	specRoleAssigns   = "authorization/resource-manager/Microsoft.Authorization/authorization-RoleAssignmentsCalls.json"
	specRoleDefs      = "authorization/resource-manager/Microsoft.Authorization/authorization-RoleDefinitionsCalls.json"
	specDenyGet       = "authorization/resource-manager/Microsoft.Authorization/authorization-DenyAssignmentGetCalls.json"
	specDeny          = "authorization/resource-manager/Microsoft.Authorization/authorization-DenyAssignmentCalls.json"
	specManagement    = "managementgroups/resource-manager/Microsoft.Management/management.json"
	specPolicyStates  = "policyinsights/resource-manager/Microsoft.PolicyInsights/policyStates.json"
	specMSI           = "msi/resource-manager/Microsoft.ManagedIdentity/ManagedIdentity.json"
	specVaults        = "keyvault/resource-manager/Microsoft.KeyVault/keyvault.json"
	specVaultsAll     = "keyvault/resource-manager/Microsoft.KeyVault/openapi.json"
	specStorage       = "storage/resource-manager/Microsoft.Storage/storage.json"
	specStorageAll    = "storage/resource-manager/Microsoft.Storage/openapi.json"
	specOIClassic     = "operationalinsights/resource-manager/Microsoft.OperationalInsights/OperationalInsights.json"
	specOIWorkspaces  = "operationalinsights/resource-manager/Microsoft.OperationalInsights/Workspaces.json"
	specOITables      = "operationalinsights/resource-manager/Microsoft.OperationalInsights/Tables.json"
	specOIAll         = "operationalinsights/resource-manager/Microsoft.OperationalInsights/openapi.json"
	specDCR           = "monitor/resource-manager/Microsoft.Insights/dataCollectionRules_API.json"
	specDCE           = "monitor/resource-manager/Microsoft.Insights/dataCollectionEndpoints_API.json"
	specSQR           = "monitor/resource-manager/Microsoft.Insights/scheduledQueryRule_API.json"
	specActionGroups  = "monitor/resource-manager/Microsoft.Insights/actionGroups_API.json"
	specDiagSettings  = "monitor/resource-manager/Microsoft.Insights/diagnosticsSettings_API.json"
	specDiagService   = "monitor/resource-manager/Microsoft.Insights/serviceDiagnosticsSettings_API.json"
	specAlerts        = "alertsmanagement/resource-manager/Microsoft.AlertsManagement/AlertsManagement.json"
	specManagedApps   = "solutions/resource-manager/Microsoft.Solutions/managedapplications.json"
	specConsumption   = "consumption/resource-manager/Microsoft.Consumption/consumption.json"
	specTemplateSpecs = "resources/resource-manager/Microsoft.Resources/templateSpecs.json"
)

// typeSpec says where a resource type's api-versions come from: the spec
// files that define its operations, the first version that has them
// (when a file gained the type later than its first version), and the
// versions ARM accepts beyond the specs (kept because Steward accepted
// them before the table was generated, and ARM's provider registration
// lists them for the type).
type typeSpec struct {
	files   []string
	since   string
	extra   []string
	located bool
}

// legacyResources are Microsoft.Resources versions ARM registers that
// predate the spec folders (2014-04-01, 2015-01-01).
var legacyResources = []string{"2014-04-01", "2015-01-01"}

// legacyPolicyStates are PolicyInsights versions Steward accepted for
// policy states before the table: the 2017 previews of the first
// policyStates specs, and 2022-04-01, the version of the package-2022-04
// files of PolicyInsights (componentPolicyStates, operations).
var legacyPolicyStates = []string{"2017-08-09-preview", "2017-10-17-preview", "2017-12-12-preview", "2022-04-01"}

// typeSpecs maps a resource type (lower case) to its specs. The types are
// those Steward serves with their own routes or hooks; any other type is a
// generic resource and takes any well-formed version.
var typeSpecs = map[string]typeSpec{
	"microsoft.resources/subscriptions":                                             {files: []string{specSubscriptions, specResources}, extra: legacyResources},
	"microsoft.resources/subscriptions/resourcegroups":                              {files: []string{specResources}, extra: legacyResources},
	"microsoft.resources/resources":                                                 {files: []string{specResources}, extra: legacyResources},
	"microsoft.resources/operationresults":                                          {files: []string{specResources}, extra: legacyResources},
	"microsoft.resources/tags":                                                      {files: []string{specResources}, extra: legacyResources},
	"microsoft.resources/providers":                                                 {files: []string{specResources}, extra: legacyResources},
	"microsoft.resources/deployments":                                               {files: []string{specResources, specDeployments}, extra: legacyResources},
	"microsoft.resources/deployments/operations":                                    {files: []string{specResources, specDeployments}, extra: legacyResources},
	"microsoft.resources/deployments/operationstatuses":                             {files: []string{specResources, specDeployments}, extra: legacyResources},
	"microsoft.management/managementgroups":                                         {files: []string{specManagement}},
	"microsoft.management/managementgroups/subscriptions":                           {files: []string{specManagement}},
	"microsoft.authorization/locks":                                                 {files: []string{specLocks}},
	"microsoft.authorization/policydefinitions":                                     {files: []string{specPolicy, specPolicyDefs, specPolicyAll}},
	"microsoft.authorization/policysetdefinitions":                                  {files: []string{specPolicySets, specPolicyAll}},
	"microsoft.authorization/policyassignments":                                     {files: []string{specPolicy, specPolicyAssigns, specPolicyAll}},
	"microsoft.authorization/policyexemptions":                                      {files: []string{specPolicyExempts, specPolicyAll}},
	"microsoft.authorization/roleassignments":                                       {files: []string{specRoleAssigns}},
	"microsoft.authorization/roledefinitions":                                       {files: []string{specRoleDefs}},
	"microsoft.authorization/permissions":                                           {files: []string{specRoleDefs}},
	"microsoft.authorization/denyassignments":                                       {files: []string{specDenyGet, specDeny}},
	"microsoft.policyinsights/policystates":                                         {files: []string{specPolicyStates}, extra: legacyPolicyStates},
	"microsoft.managedidentity/userassignedidentities":                              {files: []string{specMSI}, located: true},
	"microsoft.managedidentity/userassignedidentities/federatedidentitycredentials": {files: []string{specMSI}, since: "2022-01-31-preview", located: true},
	"microsoft.keyvault/vaults":                                                     {files: []string{specVaults, specVaultsAll}, located: true},
	"microsoft.storage/storageaccounts":                                             {files: []string{specStorage, specStorageAll}, located: true},
	"microsoft.operationalinsights/workspaces":                                      {files: []string{specOIClassic, specOIWorkspaces, specOIAll}, located: true},
	"microsoft.operationalinsights/workspaces/tables":                               {files: []string{specOITables, specOIAll}, located: true},
	"microsoft.insights/datacollectionrules":                                        {files: []string{specDCR}, located: true},
	"microsoft.insights/datacollectionendpoints":                                    {files: []string{specDCE}, located: true},
	"microsoft.insights/scheduledqueryrules":                                        {files: []string{specSQR}, located: true},
	"microsoft.insights/actiongroups":                                               {files: []string{specActionGroups}, located: true},
	"microsoft.insights/diagnosticsettings":                                         {files: []string{specDiagSettings, specDiagService}},
	"microsoft.alertsmanagement/alerts":                                             {files: []string{specAlerts}},
	"microsoft.solutions/applications":                                              {files: []string{specManagedApps}, located: true},
	"microsoft.solutions/applicationdefinitions":                                    {files: []string{specManagedApps}, located: true},
	"microsoft.consumption/budgets":                                                 {files: []string{specConsumption}},
	"microsoft.resources/templatespecs":                                             {files: []string{specTemplateSpecs}, located: true},
	"microsoft.resources/templatespecs/versions":                                    {files: []string{specTemplateSpecs}, located: true},
}

// TypeAPIVersions returns the api-versions published for a resource type
// Steward serves (such as "Microsoft.Authorization/roleAssignments"),
// previews included, sorted; nil for a type not in the table.
func TypeAPIVersions(typ string) []string {
	ts, ok := typeSpecs[strings.ToLower(typ)]
	if !ok {
		return nil
	}
	var out []string
	for _, f := range ts.files {
		for _, v := range specVersions[f] {
			if ts.since == "" || CompareAPIVersions(v, ts.since) >= 0 {
				out = append(out, v)
			}
		}
	}
	out = append(out, ts.extra...)
	slices.SortFunc(out, CompareAPIVersions)
	return slices.CompactFunc(out, func(a, b string) bool { return CompareAPIVersions(a, b) == 0 })
}

// IsLocatedType reports whether typ is a resource type of TypeAPIVersions
// whose resources have a location (ARM routes their requests by it, and
// names it when no provider serves an api-version).
func IsLocatedType(typ string) bool {
	return typeSpecs[strings.ToLower(typ)].located
}

// TypesWithAPIVersions returns the resource types TypeAPIVersions knows,
// in lower case, sorted.
func TypesWithAPIVersions() []string {
	out := make([]string, 0, len(typeSpecs))
	for t := range typeSpecs {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}
