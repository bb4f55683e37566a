// Package vending is Resource Group as a Service (seed 001): teams ask for
// resource groups and get them inside guardrails, without holding rights on
// the subscription.
//
// It is one of Steward's apps: the catalog (supported subscriptions with
// their execution context, tag rules, role assignments, policy assignments,
// naming rule and lock; and who may ask for what) lives in Table service
// tables read with aztables, and groups are created with the ARM SDK
// clients signed in as the subscription's execution context, so the same
// code drives Azure by configuration.
//
// Two identities split the privileges. The public API (Public) serves
// teams with their Entra tokens; it holds no storage key and no secret. It
// reads the catalog through a valet key (a read-only service SAS, minutes
// long) and gets the execution context's ARM token from the internal API
// (Internal), which alone holds the rights to list the storage account's
// keys and to read the execution contexts' vaults, and refuses every caller
// but the public API's identity.
package vending
