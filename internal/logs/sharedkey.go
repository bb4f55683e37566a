package logs

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxClockSkew is how far a Data Collector request's x-ms-date may be
// from Steward's clock. Azure does not document its tolerance; 15 minutes
// is what Azure Storage's SharedKey scheme allows (docs/decisions/logs.md).
const DefaultMaxClockSkew = 15 * time.Minute

// collectorResource is the canonical resource of the Data Collector API's
// string to sign.
const collectorResource = "/api/logs"

// Signature computes the Data Collector API's SharedKey signature: the
// base64 HMAC-SHA256, keyed with the base64-decoded shared key, of
// "POST\n{content length}\n{content type}\nx-ms-date:{date}\n/api/logs".
func Signature(sharedKey, method string, contentLength int64, contentType, date string) (string, error) {
	key, err := base64.StdEncoding.DecodeString(sharedKey)
	if err != nil {
		return "", err
	}
	msg := method + "\n" + strconv.FormatInt(contentLength, 10) + "\n" + contentType + "\n" +
		"x-ms-date:" + date + "\n" + collectorResource
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// checkSharedKey verifies an Authorization header "SharedKey {id}:{sig}"
// against the workspace's keys. It returns the failure message Azure gives,
// or "" when the header is valid.
func checkSharedKey(ws Workspace, auth, method string, contentLength int64, contentType, date string) string {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(auth), " ")
	if !ok || scheme != "SharedKey" {
		return "The Authorization header is missing or is not a SharedKey header."
	}
	id, sig, ok := strings.Cut(strings.TrimSpace(cred), ":")
	if !ok || !strings.EqualFold(id, ws.CustomerID) {
		return "The workspace ID in the Authorization header does not match the workspace."
	}
	given, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return "An invalid signature was specified in the Authorization header"
	}
	for _, k := range []string{ws.PrimaryKey, ws.SecondaryKey} {
		want, err := Signature(k, method, contentLength, contentType, date)
		if err != nil {
			continue
		}
		w, _ := base64.StdEncoding.DecodeString(want)
		if hmac.Equal(given, w) {
			return ""
		}
	}
	return "An invalid signature was specified in the Authorization header"
}
