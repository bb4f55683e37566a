// Package storage is the data plane of Steward's storage accounts: the
// Table service REST API (tables, entities, entity group transactions,
// stored access policies) with Azure's authentication schemes (SharedKey,
// SharedKeyLite, service and account shared access signatures, and Entra
// tokens for https://storage.azure.com checked by the RBAC engine).
//
// Accounts are registered by the Microsoft.Storage/storageAccounts
// resource provider (internal/cloud/storageaccounts); their two access
// keys are sealed at rest by a Sealer (Steward's, internal/seal) and never
// logged. Tables and entities live in typed SQL tables of the store
// (SQLite or PostgreSQL); a query's conditions on PartitionKey and RowKey
// become SQL ranges, the rest of its $filter is evaluated on the rows those
// ranges return.
//
// The handler serves two URL forms: the path form
// https://HOST:PORT/tables/{account}/... on Steward's main port, and the
// host form https://{account}.table.core.windows.net/... when a resolver
// maps the request's host to an account (the forward proxy).
package storage
