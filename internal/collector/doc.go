// Package collector is the cross-tenant Policy States Collector of seed 000:
// a Marketplace publisher learns of every deployment of its managed
// applications from their lifecycle notifications, collects the policy
// compliance states of each application's managed resource group across
// customer tenants, and ingests them into a Log Analytics table, where a
// log search alert fires while a policy the application ships is violated
// and resolves once the customer fixes it.
//
// It is one of Steward's apps: it reaches Azure Resource Manager, Policy
// Insights, the Table service, the Logs Ingestion API and Key Vault only
// through Azure SDK for Go clients, so the same code runs against Azure or
// the embedded cloud by configuration. Its own state (the collection runs,
// the work items replicas lease, and the outbox of batches not yet
// acknowledged by the ingestion API) lives in the store.
package collector
