// Package logs is Steward's Log Analytics: workspaces and their tables kept
// as typed SQL tables on the store, the two ingestion front doors (the HTTP
// Data Collector API with SharedKey signatures, and the Logs Ingestion API
// routed by data collection rules with their KQL transformations), and the
// query API that runs KQL over those tables through the kql package, with
// filters, projections and limits pushed down into SQL.
//
// Rows are written in one store transaction per request, so an API answers
// only once its rows are durable. Table schemas come from table resources or
// grow on ingestion (Data Collector column suffixes); retention is per table.
package logs
