package store

import "github.com/steward-gov/steward/internal/arm"

// Errors that Store and Tx methods return, wrapped with detail; test them
// with errors.Is. Each carries its arm.Class, which every service's one
// error mapper turns into its status (ErrInvalid is a 400 everywhere).
var (
	// ErrNotFound: the record does not exist.
	ErrNotFound = classed("store: record not found", arm.ClassNotFound)
	// ErrExists: a create-only write (IfAbsent) found the record present.
	ErrExists = classed("store: record already exists", arm.ClassConflict)
	// ErrPrecondition: an IfMatch write found another etag, or no record.
	ErrPrecondition = classed("store: etag precondition failed", arm.ClassPrecondition)
	// ErrConflict: an Update kept hitting serialization conflicts and gave up.
	ErrConflict = classed("store: transaction conflict, retries exhausted", arm.ClassUnavailable)
	// ErrReadOnly: a write was attempted in a View transaction.
	ErrReadOnly = classed("store: write in a read-only transaction", arm.ClassInternal)
	// ErrInvalid: a table name, key, value, query or token is malformed.
	ErrInvalid = classed("store: invalid argument", arm.ClassInvalid)
	// ErrLeaseLost: the lease is no longer held by the caller.
	ErrLeaseLost = classed("store: lease lost", arm.ClassInternal)
	// ErrClosed: the store has been closed.
	ErrClosed = classed("store: closed", arm.ClassUnavailable)
)

// classedError is a sentinel error with its class.
type classedError struct {
	msg   string
	class arm.Class
}

func classed(msg string, c arm.Class) error { return &classedError{msg: msg, class: c} }

func (e *classedError) Error() string { return e.msg }

// Class implements arm.Classer.
func (e *classedError) Class() arm.Class { return e.class }
