// Package policyprovider is the Azure Policy side of the embedded ARM's
// Microsoft.Authorization provider: policy definitions, policy set
// definitions (initiatives), policy assignments and policy exemptions,
// validated by package policy, and the Cloud's policy hook that enforces
// the assignments on every write (append and modify change the request,
// deny refuses it with 403 RequestDisallowedByPolicy, denyAction refuses
// deletes).
//
// Compiled assignments are cached and rebuilt after any write of the
// policy types, so the per-request cost is the evaluation of the
// assignments whose scope holds the resource.
package policyprovider
