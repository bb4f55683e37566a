// Package alerts evaluates log search alert rules
// (Microsoft.Insights/scheduledQueryRules) and delivers their notifications
// through action groups (Microsoft.Insights/actionGroups), with alert
// instances kept as Microsoft.AlertsManagement/alerts.
//
// It is one of Steward's apps: it reads rules and runs queries through
// Azure SDK clients (so the same evaluator can run against Azure), and keeps
// only its own state (per-series monitor conditions, alert instances and the
// notification outbox) in the store. Evaluation is an explicit state machine
// per rule and dimension combination, with the clock and the query function
// injected.
package alerts
