package storage

import (
	"crypto/hmac"
	"net/http"
	"strings"
	"time"
)

// maxClockSkew is how far a signed request's date may be from the
// service's clock, as Azure allows.
const maxClockSkew = 15 * time.Minute

// canonicalizedResource is the resource part of a Shared Key string to
// sign for the Table service: "/" + account + the path as the client sent
// it, and "?comp=" when the request has a comp parameter.
func canonicalizedResource(account string, r *http.Request) string {
	p := r.URL.EscapedPath()
	if p == "" {
		p = "/"
	}
	s := "/" + account + p
	if c, ok := r.URL.Query()["comp"]; ok && len(c) > 0 {
		s += "?comp=" + c[0]
	}
	return s
}

// sharedKeyStringToSign builds the string a SharedKey (lite false) or
// SharedKeyLite (lite true) signature covers for the Table service.
func sharedKeyStringToSign(account string, r *http.Request, lite bool) string {
	date := r.Header.Get("x-ms-date")
	if date == "" {
		date = r.Header.Get("Date")
	}
	res := canonicalizedResource(account, r)
	if lite {
		return date + "\n" + res
	}
	return r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" + date + "\n" + res
}

// verifySharedKey checks an Authorization header of the SharedKey or
// SharedKeyLite scheme against both of the account's keys.
func verifySharedKey(r *http.Request, scheme, cred string, acct Account, now time.Time) *Error {
	name, sig, ok := strings.Cut(cred, ":")
	if !ok || name == "" || sig == "" {
		return authFailed("The Authorization header is not of the form '" + scheme + " account:signature'.")
	}
	if !strings.EqualFold(name, acct.Name) {
		return authFailed("The account name in the Authorization header does not match the account of the request.")
	}
	if !acct.AllowSharedKeyAccess {
		return errKeyNotPermitted
	}
	date := r.Header.Get("x-ms-date")
	if date == "" {
		date = r.Header.Get("Date")
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return authFailed("The request has no valid x-ms-date or Date header.")
	}
	if d := now.Sub(t); d > maxClockSkew || d < -maxClockSkew {
		return authFailed("Request date header too old: '" + clip(date) + "'")
	}
	sts := sharedKeyStringToSign(name, r, scheme == "SharedKeyLite")
	for _, k := range acct.Keys {
		if want, err := sign(k.Value, sts); err == nil && hmac.Equal([]byte(want), []byte(sig)) {
			return nil
		}
	}
	return authFailed("The MAC signature found in the HTTP request '" + clip(sig) + "' is not the same as any computed signature. Server used following string to sign: '" + sts + "'.")
}
