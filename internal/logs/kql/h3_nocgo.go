//go:build !cgo

package kql

// Without cgo the H3 C library cannot be linked (see h3.go): the H3
// functions are known names that refuse to compile, so a query that uses
// one fails with a reason rather than an "unknown function" error.
func init() {
	for _, name := range h3Names {
		register(func(call *Call, _ []cexpr) (cexpr, error) {
			return cexpr{}, errAt(call, "%s: built without cgo: H3 functions unavailable", call.Name)
		}, name)
	}
}
