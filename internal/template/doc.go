// Package template expands ARM templates: it binds parameters (types,
// defaults, allowed values, bounds, user-defined types), evaluates
// variables and user-defined functions with the armexpr library plus the
// deployment functions (resourceId, reference, copyIndex, deployment, ...),
// unrolls copy loops, orders resources by dependsOn and implicit
// references with cycle detection, and expands nested templates in their
// inner or outer expression scope. The result is the ordered list of
// resources a deployment writes and the outputs it returns.
//
// The package is pure: it reads nothing and writes nothing. A deployment
// passes callbacks (Options) that write each resource as it is reached and
// read the state of resources outside the template; the offline
// `steward template check` passes none and gets the resources as declared.
// Both paths run the same expansion, so what CI checks is what a
// deployment would write.
package template
