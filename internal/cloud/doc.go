// Package cloud is Steward's embedded Azure Resource Manager: the management
// API that unmodified Azure SDK clients drive.
//
// A Cloud serves ARM paths under the management endpoint (the root of
// Steward's base URL): subscriptions, management groups, resource groups,
// generic resources of any {namespace}/{type} at any depth, extension
// resources ({scope}/providers/{ns}/{type}/{name}) and the Tags API. Resource
// providers that need more than generic storage (Microsoft.Authorization,
// Microsoft.PolicyInsights, ...) register Routes for their types and actions;
// anything unregistered is a generic resource.
//
// Every request passes one pipeline: authentication (identity's validator),
// a per-subscription, per-principal rate limit, authorization of the action
// with rbac, then, for writes, the resource type's PutHook, the PolicyHook,
// one store transaction that persists the document together with its
// activity-log record, and the ComplianceHook after commit. Errors are
// *arm.Error values written by arm.WriteError.
//
// Role assignments, role definitions, deny assignments and the
// management-group hierarchy are documents in the store like any other; the
// Cloud keeps rbac's engine in step with them (loaded on Start, updated after
// each committed write of those types).
package cloud
