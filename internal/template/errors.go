package template

import (
	"errors"
	"fmt"
)

// Error codes, as Azure's deployment engine reports them.
const (
	// CodeInvalidTemplate is a template or parameter problem found before
	// anything is written (Azure: 400 InvalidTemplate).
	CodeInvalidTemplate = "InvalidTemplate"
	// CodeInvalidParameter is a parameter value that is missing, of the
	// wrong type or outside its constraints.
	CodeInvalidParameter = "InvalidTemplate"
	// CodeDeferred marks a value that needs the live cloud (list*, a
	// reference to a resource outside the template) during an offline
	// expansion.
	CodeDeferred = "DeferredEvaluation"
)

// Error is a template that cannot be expanded. Path is the JSON path in
// the template ("resources[2].properties"), Line and Column locate it in
// the template file when the template was parsed from text (0 when not).
type Error struct {
	Code    string
	Message string
	Path    string
	Line    int
	Column  int
}

// Error formats the message as Azure's deployment engine does.
func (e *Error) Error() string {
	return "Deployment template validation failed: '" + e.Message + "'."
}

func templateErr(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidTemplate, Message: fmt.Sprintf(format, args...)}
}

// ErrDeferred is the cause of an evaluation an offline expansion cannot
// make; the engine keeps the expression text as the value. An
// Options.State that cannot answer yet (a resource a validation does not
// find, which the deployment may still create) returns an error wrapping
// it.
var ErrDeferred = errors.New("the value is only known when the template is deployed")

var errDeferred = ErrDeferred

// IsDeferred reports whether err comes from a function whose result only
// the live cloud knows.
func IsDeferred(err error) bool { return errors.Is(err, errDeferred) }
