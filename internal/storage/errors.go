package storage

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Error is a Table service error: an HTTP status, the service's error code
// and the message a client may see. Detail, when set, is the
// AuthenticationErrorDetail of an authentication failure.
type Error struct {
	Status  int
	Code    string
	Message string
	Detail  string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// The Table service's errors, with the codes and messages Azure answers.
var (
	errTableNotFound   = &Error{Status: http.StatusNotFound, Code: "TableNotFound", Message: "The table specified does not exist."}
	errTableExists     = &Error{Status: http.StatusConflict, Code: "TableAlreadyExists", Message: "The table specified already exists."}
	errEntityNotFound  = &Error{Status: http.StatusNotFound, Code: "ResourceNotFound", Message: "The specified resource does not exist."}
	errEntityExists    = &Error{Status: http.StatusConflict, Code: "EntityAlreadyExists", Message: "The specified entity already exists."}
	errConditionFailed = &Error{Status: http.StatusPreconditionFailed, Code: "UpdateConditionNotSatisfied", Message: "The update condition specified in the request was not satisfied."}
	errAccountNotFound = &Error{Status: http.StatusNotFound, Code: "ResourceNotFound", Message: "The specified resource does not exist."}
	errPermission      = &Error{Status: http.StatusForbidden, Code: "AuthorizationPermissionMismatch", Message: "This request is not authorized to perform this operation using this permission."}
	errAuthorization   = &Error{Status: http.StatusForbidden, Code: "AuthorizationFailure", Message: "This request is not authorized to perform this operation."}
	errKeyNotPermitted = &Error{Status: http.StatusForbidden, Code: "KeyBasedAuthenticationNotPermitted", Message: "Key based authentication is not permitted on this storage account."}
	errEntityTooLarge  = &Error{Status: http.StatusBadRequest, Code: "EntityTooLarge", Message: "The entity is larger than the maximum allowed size (1MB)."}
	errTooManyProps    = &Error{Status: http.StatusBadRequest, Code: "TooManyProperties", Message: "The entity contains more properties than allowed. Each entity can include up to 252 properties to store data. Each entity also has 3 system properties."}
	errOutOfRange      = &Error{Status: http.StatusBadRequest, Code: "OutOfRangeInput", Message: "One of the request inputs is out of range."}
	errBadTableName    = &Error{Status: http.StatusBadRequest, Code: "InvalidResourceName", Message: "The specifed resource name contains invalid characters."}
)

func invalidInput(format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, "InvalidInput", format, args...)
}

// authFailed is the 403 of a request whose credentials do not check out;
// detail says why, as Azure's AuthenticationErrorDetail does.
func authFailed(detail string) *Error {
	return &Error{Status: http.StatusForbidden, Code: "AuthenticationFailed",
		Message: "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
		Detail:  detail}
}

// writeError sends e in the Table service's JSON error shape:
// {"odata.error":{"code","message":{"lang","value"}}}, the message
// followed by the request ID and time as Azure appends them.
func writeError(w http.ResponseWriter, requestID string, e *Error, now time.Time) {
	msg := e.Message + "\nRequestId:" + requestID + "\nTime:" + now.UTC().Format("2006-01-02T15:04:05.0000000Z")
	body := map[string]any{"code": e.Code, "message": map[string]string{"lang": "en-US", "value": msg}}
	if e.Detail != "" {
		body["AuthenticationErrorDetail"] = e.Detail
	}
	b, _ := json.Marshal(map[string]any{"odata.error": body})
	h := w.Header()
	h.Set("Content-Type", "application/json;odata=minimalmetadata;streaming=true;charset=utf-8")
	h.Set("x-ms-error-code", e.Code)
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}
