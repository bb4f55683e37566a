package vault

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// AuditEvent is one data-plane request as Key Vault's audit log
// (category AuditEvent) records it: who called, what operation on which
// object, and how it ended. It never holds a value, a key, a body or a
// token: names, URIs, status and the caller's claims only.
type AuditEvent struct {
	// Time is when the request arrived (UTC).
	Time time.Time
	// VaultID is the vault's ARM resource ID, VaultName its name.
	VaultID, VaultName string
	// OperationName is Key Vault's name for the operation (SecretGet,
	// KeySign, CertificateCreate, ...); for a path that names no operation
	// it is "Authentication" when the request had no valid token and
	// "Unknown" otherwise.
	OperationName string
	// APIVersion is the api-version the client asked for.
	APIVersion string
	// Status is the HTTP status answered; ErrorCode and Description are
	// the error's code and message when it failed.
	Status                 int
	ErrorCode, Description string
	// Duration is how long the vault took to answer.
	Duration time.Duration
	// CallerIP is the client's address, ClientRequestID the
	// x-ms-client-request-id it sent, ClientInfo its User-Agent.
	CallerIP, ClientRequestID, ClientInfo string
	// RequestURI is the request's URI (with only Key Vault's query
	// parameters); ID is the URI of the object acted on, or the vault's.
	RequestURI, ID string
	// TenantID, ObjectID and AppID are the claims (tid, oid, appid) of
	// the caller's token, empty when the request had no valid token; UPN
	// is a user's upn claim (or preferred_username, which holds the UPN
	// in Steward's tokens), empty for applications.
	TenantID, ObjectID, AppID, UPN string
	// Authorized reports whether the RBAC check granted the request
	// (false when it was denied or never reached).
	Authorized bool
}

// Auditor receives the audit event of every request to an existing vault.
// Record runs on the request's goroutine after the response is written:
// it must not block (keep the event in a bounded buffer and return).
type Auditor interface {
	Record(AuditEvent)
}

// AuditorFunc adapts a function to Auditor.
type AuditorFunc func(AuditEvent)

// Record implements Auditor.
func (f AuditorFunc) Record(ev AuditEvent) { f(ev) }

// auditQuery are the query parameters an audit event's request URI keeps
// (Key Vault's own; anything else a client sends is left out).
var auditQuery = []string{"api-version", "maxresults", "$skiptoken"}

// maxAuditURI bounds the request URI an event carries.
const maxAuditURI = 2048

// requestURI is the request's URI for the audit log: the vault's base,
// the path, and Key Vault's query parameters only.
func requestURI(base, rest string, r *http.Request) string {
	q := url.Values{}
	in := r.URL.Query()
	for _, k := range auditQuery {
		if v := in.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	u := base + rest
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return clip(u, maxAuditURI)
}

// callerIP is the client's address without its port.
func callerIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// tokenUPN reads the upn (or preferred_username) claim of the request's
// bearer token, which the handler has already validated; "" when there is
// none.
func tokenUPN(r *http.Request) string {
	_, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	parts := strings.Split(strings.TrimSpace(raw), ".")
	if len(parts) != 3 || len(parts[1]) > 16<<10 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		UPN               string `json:"upn"`
		PreferredUsername string `json:"preferred_username"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	if c.UPN != "" {
		return clip(c.UPN, 256)
	}
	return clip(c.PreferredUsername, 256)
}
