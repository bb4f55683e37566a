// Package armexpr implements the ARM template expression language: the
// "[function(args)]" expressions that Azure Policy rules and ARM template
// deployments embed in JSON strings. It has a lexer and a parser producing
// an AST with positions, and one library of template functions that the
// policy engine and template deployments share. Functions that depend on
// where an expression runs (field, parameters, current, policy,
// requestContext, variables, resourceGroup, subscription, ...) are supplied
// by the host through EvalContext.Host.
//
// Values are plain Go values as encoding/json produces them, with numbers
// normalised: nil, bool, int64, float64, string, []any and map[string]any.
// Object keys compare case-insensitively, as ARM's do.
package armexpr

import "time"

// MaxExpressionSize caps the length of an expression Parse accepts; longer
// input is a parse error, never a slow parse.
const MaxExpressionSize = 64 << 10

// Node is a parsed expression. String returns text that parses back to an
// equal tree; Pos is the byte offset of the node in the source string.
type Node interface {
	Pos() int
	String() string
}

// HostFunc resolves a function the host defines. It returns handled=false
// when the host does not define name, so the library's function is used.
// name is the function name in lower case. args is valid only during the
// call: the evaluator reuses its backing array, so copy it to keep it.
type HostFunc func(name string, args []any) (result any, handled bool, err error)

// EvalContext is what an evaluation may depend on besides its arguments.
type EvalContext struct {
	// Now is the time utcNow() and related functions see; the zero value
	// means time.Now().UTC().
	Now time.Time
	// Host resolves host-defined functions; it may be nil.
	Host HostFunc
}
