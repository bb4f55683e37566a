package arm

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// Class is the kind of a failure, whichever package it comes from: the
// one classification every service maps to its own wire envelope (ARM's,
// Key Vault's, Entra's OAuth errors, the logs APIs'), so that an error of
// the store's, say an invalid key, is a 400 everywhere and never a 500.
type Class int

// The classes, with the HTTP status each stands for.
const (
	ClassInternal     Class = iota // 500: a fault of ours
	ClassInvalid                   // 400: the caller's input is malformed or out of range
	ClassNotFound                  // 404
	ClassConflict                  // 409
	ClassPrecondition              // 412
	ClassThrottled                 // 429
	ClassUnavailable               // 503: retry later (contention, shutdown, cancellation)
)

// Status is the HTTP status of the class.
func (c Class) Status() int {
	switch c {
	case ClassInvalid:
		return http.StatusBadRequest
	case ClassNotFound:
		return http.StatusNotFound
	case ClassConflict:
		return http.StatusConflict
	case ClassPrecondition:
		return http.StatusPreconditionFailed
	case ClassThrottled:
		return http.StatusTooManyRequests
	case ClassUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Classer is implemented by errors that know their class, such as the
// store's sentinel errors.
type Classer interface {
	Class() Class
}

// ClassOf returns the class of the first error in err's chain that has
// one. A cancelled or timed-out context is ClassUnavailable; anything
// else is ClassInternal.
func ClassOf(err error) Class {
	if err == nil {
		return ClassInternal
	}
	var c Classer
	if errors.As(err, &c) {
		return c.Class()
	}
	var e *Error
	if errors.As(err, &e) {
		return classOfStatus(e.Status)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return ClassUnavailable
	}
	return ClassInternal
}

func classOfStatus(status int) Class {
	switch status {
	case http.StatusBadRequest:
		return ClassInvalid
	case http.StatusNotFound:
		return ClassNotFound
	case http.StatusConflict:
		return ClassConflict
	case http.StatusPreconditionFailed:
		return ClassPrecondition
	case http.StatusTooManyRequests:
		return ClassThrottled
	case http.StatusServiceUnavailable:
		return ClassUnavailable
	}
	return ClassInternal
}

// classErrors are what AsError sends for an error that is not an *Error
// but has a class: a fixed message per class, since the error's own text
// is internal detail.
var classErrors = map[Class]*Error{
	ClassInvalid: {Status: http.StatusBadRequest, Code: "InvalidParameter",
		Message: "A value in the request (a name, a key, a query parameter or a continuation token) is malformed or too long."},
	ClassNotFound:     {Status: http.StatusNotFound, Code: "NotFound", Message: "The requested object was not found."},
	ClassConflict:     {Status: http.StatusConflict, Code: "Conflict", Message: "The object already exists or was changed concurrently."},
	ClassPrecondition: {Status: http.StatusPreconditionFailed, Code: "PreconditionFailed", Message: "The object was changed since it was read; read it again and retry."},
	ClassThrottled:    {Status: http.StatusTooManyRequests, Code: "TooManyRequests", Message: "Too many requests; retry later."},
	ClassUnavailable:  {Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable", Message: "The service is busy or the request was cancelled; retry the request."},
}

// ValidHost reports whether h can be the host of a URL Steward builds
// (object IDs, nextLinks, Location headers): a DNS name or IPv4 address
// of letters, digits, dots and hyphens, or a bracketed IPv6 address, with
// an optional numeric port; at most 255 bytes. A Host header that is not
// one is never reflected into a URL.
func ValidHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	name, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		ip := h[1:end]
		if ip == "" || strings.Trim(ip, "0123456789abcdefABCDEF:.") != "" {
			return false
		}
		name = "x"
		if rest := h[end+1:]; rest != "" {
			if rest[0] != ':' {
				return false
			}
			port = rest[1:]
			if port == "" {
				return false
			}
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i+1:]
		if port == "" {
			return false
		}
	}
	if strings.Trim(port, "0123456789") != "" || len(port) > 5 {
		return false
	}
	if name == "" || name[0] == '.' || name[0] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
