package store

import "errors"

// Errors that Store and Tx methods return, wrapped with detail; test them
// with errors.Is. The HTTP mapping belongs to the callers (arm.WriteError).
var (
	// ErrNotFound: the record does not exist.
	ErrNotFound = errors.New("store: record not found")
	// ErrExists: a create-only write (IfAbsent) found the record present.
	ErrExists = errors.New("store: record already exists")
	// ErrPrecondition: an IfMatch write found another etag, or no record.
	ErrPrecondition = errors.New("store: etag precondition failed")
	// ErrConflict: an Update kept hitting serialization conflicts and gave up.
	ErrConflict = errors.New("store: transaction conflict, retries exhausted")
	// ErrReadOnly: a write was attempted in a View transaction.
	ErrReadOnly = errors.New("store: write in a read-only transaction")
	// ErrInvalid: a table name, key, value, query or token is malformed.
	ErrInvalid = errors.New("store: invalid argument")
	// ErrLeaseLost: the lease is no longer held by the caller.
	ErrLeaseLost = errors.New("store: lease lost")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store: closed")
)
