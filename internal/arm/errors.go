package arm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Error is an ARM error: the body of the envelope
// {"error":{"code","message","target","details","additionalInfo"}} plus the
// HTTP status it is sent with. Message is what the user sees; internal detail
// belongs in logs, never here.
type Error struct {
	Status         int              `json:"-"`
	Code           string           `json:"code"`
	Message        string           `json:"message"`
	Target         string           `json:"target,omitempty"`
	Details        []*Error         `json:"details,omitempty"`
	AdditionalInfo []AdditionalInfo `json:"additionalInfo,omitempty"`
}

// AdditionalInfo is one entry of an error's additionalInfo list, such as the
// PolicyViolation record of a request denied by policy.
type AdditionalInfo struct {
	Type string `json:"type"`
	Info any    `json:"info,omitempty"`
}

// Error implements the error interface with the code and the user message.
func (e *Error) Error() string {
	return e.Code + ": " + e.Message
}

// Errorf makes an Error with a status, a code and a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Common ARM errors.
var (
	// ErrInternal is what any error that is not an *Error becomes on the wire.
	ErrInternal = &Error{Status: http.StatusInternalServerError, Code: "InternalServerError",
		Message: "The server encountered an internal error. Please retry the request."}
)

// BadRequest is a 400 with the given code.
func BadRequest(code, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, code, format, args...)
}

// NotFound is a 404 with the given code.
func NotFound(code, format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, code, format, args...)
}

// envelope is the wire form of an error response.
type envelope struct {
	Error *Error `json:"error"`
}

// AsError returns the *Error in err's chain; for another error, the
// generic error of its class (ClassOf), so that a store's invalid-argument
// error is a 400; else ErrInternal. Nothing internal reaches a client.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.Status == 0 {
			c := *e
			c.Status = http.StatusBadRequest
			return &c
		}
		return e
	}
	if ce, ok := classErrors[ClassOf(err)]; ok {
		return ce
	}
	return ErrInternal
}

// WriteError is the one place an error becomes an HTTP response: it writes
// the ARM error envelope with the error's status. Errors that are not an
// *Error are sent as a 500 without their text.
func WriteError(w http.ResponseWriter, err error) {
	e := AsError(err)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if e.Code != "" {
		w.Header().Set("x-ms-failure-cause", "service")
	}
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(envelope{Error: e})
}

// DecodeError parses an ARM error envelope. It returns nil when body is not
// one.
func DecodeError(status int, body []byte) *Error {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || env.Error == nil || env.Error.Code == "" {
		return nil
	}
	env.Error.Status = status
	return env.Error
}
