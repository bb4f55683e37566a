package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// Error is a Key Vault error: an HTTP status, a code, a message the caller
// may see, and an optional inner code (ForbiddenByRbac,
// ObjectIsDeletedButRecoverable).
type Error struct {
	Status  int
	Code    string
	Message string
	Inner   string
	// Header holds response headers that go with the error (the 401
	// challenge).
	Header http.Header
}

// Error implements error.
func (e *Error) Error() string {
	if e.Inner != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Inner, e.Message)
	}
	return e.Code + ": " + e.Message
}

func badParameter(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadParameter", Message: fmt.Sprintf(format, args...)}
}

func notFound(k kind, name string) *Error {
	return &Error{Status: http.StatusNotFound, Code: k.notFoundCode(),
		Message: fmt.Sprintf("A %s with (name/id) %s was not found in this key vault. If you recently deleted this %s you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", k.singular(), name, k.singular())}
}

func deletedNotFound(k kind, name string) *Error {
	return &Error{Status: http.StatusNotFound, Code: k.notFoundCode(),
		Message: fmt.Sprintf("Deleted %s not found: %s", k.title(), name)}
}

func conflictDeleted(k kind, name string) *Error {
	return &Error{Status: http.StatusConflict, Code: "Conflict", Inner: "ObjectIsDeletedButRecoverable",
		Message: fmt.Sprintf("%s %s is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the %s can only be recovered or purged.", k.title(), name, k.singular())}
}

func forbidden(action string) *Error {
	return &Error{Status: http.StatusForbidden, Code: "Forbidden", Inner: "ForbiddenByRbac",
		Message: fmt.Sprintf("Caller is not authorized to perform action on resource.\r\nIf role assignments were recently changed, please wait several minutes for role assignments to become effective.\r\nAction: '%s'\r\nDecisionReason: 'DeniedWithNoValidRBAC'", action)}
}

func forbiddenOp(msg string) *Error {
	return &Error{Status: http.StatusForbidden, Code: "Forbidden", Message: msg}
}

// errorStatus maps any error to its Key Vault status and body, the one
// place where errors become HTTP. Store failures that callers cannot fix
// become 503 (retryable); anything unexpected is a 500 whose detail is
// logged, never shown.
func errorStatus(err error) (*Error, bool) {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e, false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable", Message: "The request was cancelled or timed out."}, false
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrClosed):
		return &Error{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable", Message: "The vault is busy; retry the request."}, true
	case arm.ClassOf(err) == arm.ClassInvalid:
		// A name, version or continuation token the store cannot take (too
		// long, a NUL byte, a forged token).
		return badParameter("A name, version or continuation token in the request is malformed or too long."), false
	default:
		return &Error{Status: http.StatusInternalServerError, Code: "InternalError", Message: "The vault could not complete the request."}, true
	}
}

// writeError writes err with Key Vault's error shape.
func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	e, internal := errorStatus(err)
	if internal && log != nil {
		log.Error("vault request failed", "err", err.Error())
	}
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	body := ErrorBody{Code: e.Code, Message: e.Message}
	if e.Inner != "" {
		body.InnerError = &ErrorBody{Code: e.Inner}
	}
	writeJSON(w, e.Status, struct {
		Error ErrorBody `json:"error"`
	}{body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
