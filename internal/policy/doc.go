// Package policy is Steward's Azure Policy engine: it parses policy
// definitions, initiatives (policy sets), assignments and exemptions,
// compiles policy rules once into an evaluation tree (pre-parsed template
// expressions, pre-resolved alias paths, folded constants, precompiled
// like/match patterns), and evaluates them against resource documents many
// times over, offline.
//
// The evaluation follows the documented Azure Policy language: the 19
// condition operators and exists, allOf/anyOf/not, field and value
// conditions, field and value count with where and current(), the [*]
// array semantics, aliases (versioned by api-version), effects with their
// details, and compliance states with their documented roll-up. Where
// Azure's behaviour is undocumented the choices are written down in
// docs/decisions/policy.md with their evidence.
//
// Template expressions ("[concat(...)]") are parsed and evaluated by
// package armexpr; the policy-only functions field(), parameters(),
// current(), policy(), requestContext(), resourceGroup() and subscription()
// are supplied by this package through armexpr.EvalContext.Host.
package policy
