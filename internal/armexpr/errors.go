package armexpr

import "fmt"

// Error codes carried by *Error. Parse errors use CodeParse; the others
// classify evaluation failures so callers can tell a type mismatch from an
// unknown function without matching on messages.
const (
	CodeParse           = "InvalidTemplateExpression"
	CodeUnknownFunction = "UnknownFunction"
	CodeArgumentCount   = "InvalidArgumentCount"
	CodeArgumentType    = "InvalidArgumentType"
	CodeInvalidArgument = "InvalidArgument"
	CodeNotFound        = "PropertyNotFound"
	CodeIndexRange      = "IndexOutOfRange"
	CodeLimitExceeded   = "LimitExceeded"
	// CodeHost marks an error a host function returned that was not an
	// *Error; the original is kept for errors.Is and errors.As.
	CodeHost = "HostFunctionError"
)

// Error is a parse or evaluation error. Pos is the byte offset in the
// expression source the error refers to, or -1 when it has none (for
// example an error from Call, which has no source).
type Error struct {
	Code    string
	Message string
	Pos     int

	cause error // a host's own error, for Unwrap
}

// Unwrap returns the host error this error carries, if any, so that
// errors.Is finds a host's sentinel errors through evaluation.
func (e *Error) Unwrap() error { return e.cause }

// Error formats the error with its position when it has one.
func (e *Error) Error() string {
	if e.Pos >= 0 {
		return fmt.Sprintf("%s at position %d: %s", e.Code, e.Pos, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// errorf builds an *Error with no position; evaluation attaches the
// position of the call that failed.
func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Pos: -1}
}
