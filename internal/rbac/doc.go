// Package rbac evaluates Azure role-based access control as Azure Resource
// Manager does: role definitions with actions, notActions, dataActions and
// notDataActions matched case-insensitively with '*' wildcards; role
// assignments at management-group, subscription, resource-group and resource
// scopes inherited downwards; deny assignments that win over every grant; and
// role-assignment conditions (ABAC, package abac) that must hold for an
// assignment to count.
//
// An Engine answers access checks with the reason for its answer and is
// indexed by scope and principal, so a check touches only the assignments on
// the scope chain of the target. Analyze builds on it to enumerate what a
// principal can grant through role-assignment writes, with a hook
// (RoleAssignmentPolicy) through which Azure Policy deny rules are consulted.
//
// The package ships the built-in roles Steward needs, extracted verbatim from
// Azure's role-definition list, and reads more from the same JSON format.
package rbac
