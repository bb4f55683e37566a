package collector

// The dashboard's KQL queries over PolicyComplianceStates_CL
// (docs/collector.md): each takes the latest state of every (application,
// assignment, resource) and counts non-compliant resources.
const (
	// ComplianceByTenant: Resources, NonCompliant and CompliancePercent
	// per customer tenant over the last day.
	ComplianceByTenant = `PolicyComplianceStates_CL
| where TimeGenerated > ago(1d)
| summarize arg_max(TimeGenerated, ComplianceState) by TenantId, ApplicationId, PolicyAssignmentId, ResourceId
| summarize Resources = count(), NonCompliant = countif(ComplianceState == 'NonCompliant') by TenantId
| extend CompliancePercent = round(100.0 * (Resources - NonCompliant) / Resources, 1)`

	// ComplianceByApplication: Resources and NonCompliant per managed
	// application over the last day, the worst first.
	ComplianceByApplication = `PolicyComplianceStates_CL
| where TimeGenerated > ago(1d)
| summarize arg_max(TimeGenerated, ComplianceState) by ApplicationId, PolicyAssignmentId, ResourceId
| summarize Resources = count(), NonCompliant = countif(ComplianceState == 'NonCompliant') by ApplicationId
| order by NonCompliant desc`

	// ComplianceTrend: non-compliant resources per run over 30 days, in
	// 6-hour bins.
	ComplianceTrend = `PolicyComplianceStates_CL
| where TimeGenerated > ago(30d)
| summarize arg_max(TimeGenerated, ComplianceState) by RunId, RecordId
| summarize NonCompliant = countif(ComplianceState == 'NonCompliant'), Resources = count() by bin(TimeGenerated, 6h)
| order by TimeGenerated asc`
)
