// Package authorization is the Microsoft.Authorization resource provider of
// the embedded ARM for access control: role definitions (the built-in
// catalog plus custom roles written at their assignable scopes), role
// assignments (with ABAC conditions, the write checked with the request
// attributes a condition sees), deny assignments (read only) and the
// caller's effective permissions at a scope.
//
// Every write goes through the Cloud's pipeline (cloud.Put and cloud.Delete),
// so role-assignment writes meet Azure Policy (the policy hook evaluates them
// as Microsoft.Authorization/roleAssignments documents) and, once
// committed, change rbac's live view of access.
package authorization
