package storage

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SASVersion is the signed version Steward writes into the signatures it
// computes (listServiceSas, listAccountSas, the CLI): the version the Azure
// SDKs for Tables sign with.
const SASVersion = "2019-02-02"

// sasEncryptionScopeVersion is the first version whose account SAS
// string-to-sign carries the signed encryption scope.
const sasEncryptionScopeVersion = "2020-12-06"

// sasMinVersion is the oldest SAS version accepted: the first whose
// string-to-sign has the form implemented here.
const sasMinVersion = "2015-04-05"

// ServiceSAS is a service shared access signature for one table.
type ServiceSAS struct {
	Version    string
	Table      string
	Permission string // of "raud"
	Start      string // ISO 8601, optional
	Expiry     string // ISO 8601 (optional when Identifier names a policy with one)
	IP         string // an address or a range "a-b", optional
	Protocol   string // "https" or "https,http", optional
	Identifier string // a stored access policy of the table, optional
	StartPK    string
	StartRK    string
	EndPK      string
	EndRK      string
}

// AccountSAS is an account shared access signature.
type AccountSAS struct {
	Version         string
	Services        string // of "bqtf"
	ResourceTypes   string // of "sco"
	Permission      string // of "rwdlacup"
	Start           string
	Expiry          string
	IP              string
	Protocol        string
	EncryptionScope string
}

func sign(key, stringToSign string) (string, error) {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return "", fmt.Errorf("storage: the account key is not base64")
	}
	h := hmac.New(sha256.New, k)
	h.Write([]byte(stringToSign))
	clear(k)
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

func (s ServiceSAS) stringToSign(account string) string {
	return strings.Join([]string{s.Permission, s.Start, s.Expiry,
		"/table/" + strings.ToLower(account) + "/" + strings.ToLower(s.Table),
		s.Identifier, s.IP, s.Protocol, s.Version, s.StartPK, s.StartRK, s.EndPK, s.EndRK}, "\n")
}

func (s AccountSAS) stringToSign(account string) string {
	parts := []string{account, s.Permission, s.Services, s.ResourceTypes, s.Start, s.Expiry, s.IP, s.Protocol, s.Version}
	if s.Version >= sasEncryptionScopeVersion {
		parts = append(parts, s.EncryptionScope)
	}
	return strings.Join(parts, "\n") + "\n"
}

// Sign returns the SAS token (the query string, without "?") for account,
// signed with key.
func (s ServiceSAS) Sign(account, key string) (string, error) {
	if s.Version == "" {
		s.Version = SASVersion
	}
	sig, err := sign(key, s.stringToSign(account))
	if err != nil {
		return "", err
	}
	return encodeSAS([][2]string{{"sv", s.Version}, {"tn", s.Table}, {"sp", s.Permission}, {"st", s.Start}, {"se", s.Expiry},
		{"sip", s.IP}, {"spr", s.Protocol}, {"si", s.Identifier}, {"spk", s.StartPK}, {"srk", s.StartRK},
		{"epk", s.EndPK}, {"erk", s.EndRK}, {"sig", sig}}), nil
}

// Sign returns the SAS token for account, signed with key.
func (s AccountSAS) Sign(account, key string) (string, error) {
	if s.Version == "" {
		s.Version = SASVersion
	}
	sig, err := sign(key, s.stringToSign(account))
	if err != nil {
		return "", err
	}
	return encodeSAS([][2]string{{"sv", s.Version}, {"ss", s.Services}, {"srt", s.ResourceTypes}, {"sp", s.Permission},
		{"st", s.Start}, {"se", s.Expiry}, {"sip", s.IP}, {"spr", s.Protocol}, {"ses", s.EncryptionScope}, {"sig", sig}}), nil
}

func encodeSAS(kv [][2]string) string {
	var b strings.Builder
	for _, p := range kv {
		if p[1] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p[0] + "=" + url.QueryEscape(p[1]))
	}
	return b.String()
}

// sasRange is the key range a service SAS confines entities to.
type sasRange struct {
	StartPK, StartRK, EndPK, EndRK string
}

// contains reports whether an entity's keys are within the range.
func (r *sasRange) contains(pk, rk string) bool {
	if r == nil {
		return true
	}
	if r.StartPK != "" && (pk < r.StartPK || pk == r.StartPK && r.StartRK != "" && rk < r.StartRK) {
		return false
	}
	if r.EndPK != "" && (pk > r.EndPK || pk == r.EndPK && r.EndRK != "" && rk > r.EndRK) {
		return false
	}
	return true
}

// sasGrant is what a verified SAS allows.
type sasGrant struct {
	account bool
	// table is the table of a service SAS (lower case).
	table         string
	permission    string
	resourceTypes string
	keyRange      *sasRange
}

// parseSASTime reads a signed start or expiry time.
func parseSASTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time", s)
}

// isSAS reports whether the query carries a shared access signature.
func isSAS(q url.Values) bool { return q.Get("sig") != "" && q.Get("sv") != "" }

// verifySAS checks a request's SAS against the account's keys, its time
// window, protocol and source address, and returns what it grants. acl
// looks up the stored access policies of a table (for si).
func verifySAS(r *http.Request, q url.Values, acct Account, now time.Time, acl func(table string) ([]SignedIdentifier, error)) (*sasGrant, *Error) {
	sig := strings.ReplaceAll(q.Get("sig"), " ", "+")
	version := q.Get("sv")
	if version < sasMinVersion {
		return nil, authFailed(fmt.Sprintf("The signed version %s is not supported.", clip(version)))
	}
	var sts, start, expiry, ip, proto string
	var g sasGrant
	if q.Has("ss") || q.Has("srt") {
		a := AccountSAS{Version: version, Services: q.Get("ss"), ResourceTypes: q.Get("srt"), Permission: q.Get("sp"),
			Start: q.Get("st"), Expiry: q.Get("se"), IP: q.Get("sip"), Protocol: q.Get("spr"), EncryptionScope: q.Get("ses")}
		sts = a.stringToSign(acct.Name)
		start, expiry, ip, proto = a.Start, a.Expiry, a.IP, a.Protocol
		g = sasGrant{account: true, permission: a.Permission, resourceTypes: a.ResourceTypes}
		if !strings.Contains(a.Services, "t") {
			return nil, &Error{Status: http.StatusForbidden, Code: "AuthorizationServiceMismatch", Message: "This request is not authorized to perform this operation using this service."}
		}
	} else {
		s := ServiceSAS{Version: version, Table: q.Get("tn"), Permission: q.Get("sp"), Start: q.Get("st"), Expiry: q.Get("se"),
			IP: q.Get("sip"), Protocol: q.Get("spr"), Identifier: q.Get("si"), StartPK: q.Get("spk"), StartRK: q.Get("srk"),
			EndPK: q.Get("epk"), EndRK: q.Get("erk")}
		if s.Table == "" {
			return nil, authFailed("The table name (tn) of the signature is missing.")
		}
		sts = s.stringToSign(acct.Name)
		start, expiry, ip, proto = s.Start, s.Expiry, s.IP, s.Protocol
		perm := s.Permission
		if s.Identifier != "" {
			ids, err := acl(s.Table)
			if err != nil {
				return nil, authFailed("The table of the signature does not exist.")
			}
			var pol *SignedIdentifier
			for i := range ids {
				if ids[i].ID == s.Identifier {
					pol = &ids[i]
				}
			}
			if pol == nil {
				return nil, authFailed("The signed identifier " + clip(s.Identifier) + " does not exist.")
			}
			if pol.Permission != "" && perm != "" || pol.Start != "" && start != "" || pol.Expiry != "" && expiry != "" {
				return nil, authFailed("A field is given both by the signature and by its stored access policy.")
			}
			perm += pol.Permission
			if start == "" {
				start = pol.Start
			}
			if expiry == "" {
				expiry = pol.Expiry
			}
		}
		g = sasGrant{table: strings.ToLower(s.Table), permission: perm}
		if s.StartPK != "" || s.EndPK != "" {
			g.keyRange = &sasRange{StartPK: s.StartPK, StartRK: s.StartRK, EndPK: s.EndPK, EndRK: s.EndRK}
		}
	}
	if !acct.AllowSharedKeyAccess {
		return nil, errKeyNotPermitted
	}
	matched := false
	for _, k := range acct.Keys {
		want, err := sign(k.Value, sts)
		if err == nil && hmac.Equal([]byte(want), []byte(sig)) {
			matched = true
		}
	}
	if !matched {
		return nil, authFailed("Signature did not match. String to sign used was " + sts)
	}
	if expiry == "" {
		return nil, authFailed("Signed expiry time is required.")
	}
	se, err := parseSASTime(expiry)
	if err != nil {
		return nil, authFailed("The signed expiry time is not valid: " + err.Error())
	}
	st := time.Time{}
	if start != "" {
		if st, err = parseSASTime(start); err != nil {
			return nil, authFailed("The signed start time is not valid: " + err.Error())
		}
	}
	if now.Before(st) || !now.Before(se) {
		startText := ""
		if !st.IsZero() {
			startText = st.Format(http.TimeFormat)
		}
		return nil, authFailed(fmt.Sprintf("Signature not valid in the specified time frame: Start [%s] - Expiry [%s] - Current [%s]",
			startText, se.Format(http.TimeFormat), now.UTC().Format(http.TimeFormat)))
	}
	if proto == "https" && r.TLS == nil && !strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return nil, &Error{Status: http.StatusForbidden, Code: "AuthorizationProtocolMismatch", Message: "This request is not authorized to perform this operation using this protocol."}
	}
	if ip != "" && !ipAllowed(ip, r.RemoteAddr) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		return nil, &Error{Status: http.StatusForbidden, Code: "AuthorizationSourceIPMismatch",
			Message: "This request is not authorized to perform this operation using this source IP " + host + "."}
	}
	return &g, nil
}

// ipAllowed checks a remote address against sip (one address or a range).
func ipAllowed(sip, remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	addr := net.ParseIP(host)
	if addr == nil {
		return false
	}
	lo, hi, isRange := strings.Cut(sip, "-")
	from, to := net.ParseIP(lo), net.ParseIP(lo)
	if isRange {
		to = net.ParseIP(hi)
	}
	if from == nil || to == nil {
		return false
	}
	a16, f16, t16 := addr.To16(), from.To16(), to.To16()
	return string(a16) >= string(f16) && string(a16) <= string(t16)
}
