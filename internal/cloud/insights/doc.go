// Package insights is the embedded Microsoft.PolicyInsights resource
// provider: continuous policy compliance and the policy states API.
//
// The Engine keeps one policy state per resource x assignment x definition
// reference in the store. It re-evaluates a resource as soon as a write
// commits (the Cloud's compliance hook) and forgets its states when it is
// deleted; a new or changed policy assignment, definition, set definition or
// exemption queues a background scan of the scopes it affects. Scans are jobs
// in a store table, taken under a lease, so replicas sharing PostgreSQL split
// them; triggerEvaluation queues one and answers 202 with a Location that
// reports completion.
//
// The API answers policyStates/{latest|default}/queryResults and
// policyStates/latest/summarize at management group, subscription, resource
// group, resource, and policy assignment, definition and set definition
// scopes, with the OData subset Azure documents ($filter, $apply, $select,
// $orderby, $top, $from, $to) and paging by @odata.nextLink, which must be
// POSTed as on Azure. The OData parsers are size-capped and never panic.
// Behaviours Azure leaves undocumented are written down in
// docs/decisions/compliance.md.
//
// Remediation tasks (remediations.go) fix the NonCompliant resources of a
// deployIfNotExists or modify assignment: the rule's deployment, or a
// rewrite of the resource through the write pipeline, runs as the
// assignment's managed identity, then the assignment is evaluated again;
// see docs/decisions/templates.md.
package insights
