// Package interop holds Steward's interoperability tests: they run real,
// unmodified Azure clients other than the Go SDK (the Azure CLI and the
// Azure SDK for Python, as Debian packages them) against a Steward served
// on 127.0.0.1, and record what works and exactly what does not.
//
// The package has no code outside its tests; see docs/interop.md for how a
// user points these clients at Steward and docs/decisions/interop.md for
// the client behaviours the tests pin down.
package interop
