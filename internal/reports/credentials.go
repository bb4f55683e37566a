package reports

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Credential kinds.
const (
	KindVaultSecret      = "VaultSecret"
	KindVaultKey         = "VaultKey"
	KindVaultCertificate = "VaultCertificate"
	KindAppPassword      = "AppPassword"
	KindAppCertificate   = "AppCertificate"
)

// Credential is one secret, key or certificate that something signs in
// or encrypts with: a vault object, or an application's password or
// certificate credential.
type Credential struct {
	Kind string
	// Owner is the vault or the application (display name or app ID).
	Owner string
	Name  string
	// ID identifies the credential (a vault object ID, a key ID); it is
	// masked in the report.
	ID               string
	Created, Expires time.Time // zero: unknown / never
	LastUsed         time.Time // zero: not seen
	// Scope is where the data-plane records note the credential's use
	// (AppCredentialScope for application credentials); empty when none.
	Scope             string
	HasRotationPolicy bool
	// Rotatable says whether a rotation policy applies to the kind (vault
	// keys and certificates).
	Rotatable bool
	Enabled   bool
}

// Credential flags, as the report and the log table name them.
const (
	FlagNoExpiry         = "NoExpiry"
	FlagExpired          = "Expired"
	FlagExpiringSoon     = "ExpiresWithin30Days"
	FlagOld              = "OlderThan90Days"
	FlagLongValidity     = "ValidityOver12Months"
	FlagNoRotationPolicy = "NoRotationPolicy"
)

// CredentialRow is a credential as the report and StewardCredentials_CL
// hold it.
type CredentialRow struct {
	Kind       string     `json:"Kind"`
	Owner      string     `json:"Owner"`
	Name       string     `json:"Name"`
	MaskedID   string     `json:"CredentialId"`
	CreateDate *time.Time `json:"CreateDate"`
	ExpiryDate *time.Time `json:"ExpiryDate"`
	LastUsed   *time.Time `json:"LastUsed"`
	Age        int        `json:"Age"`
	Flags      []string   `json:"Flags"`
	Enabled    bool       `json:"Enabled"`
}

// Mask keeps the first and last four characters of an identifier.
func Mask(s string) string {
	if len(s) <= 8 {
		return strings.Repeat("*", len(s))
	}
	return s[:4] + strings.Repeat("*", min(len(s)-8, 16)) + s[len(s)-4:]
}

// AssessCredentials flags every credential at now: no expiry, expired,
// expiring within 30 days, created more than 90 days ago, valid for more
// than 12 months, no rotation policy (vault keys and certificates).
func AssessCredentials(creds []Credential, now time.Time) []CredentialRow {
	rows := make([]CredentialRow, 0, len(creds))
	for _, c := range creds {
		r := CredentialRow{Kind: c.Kind, Owner: c.Owner, Name: c.Name, MaskedID: Mask(c.ID), Enabled: c.Enabled, Flags: []string{}}
		if !c.Created.IsZero() {
			t := c.Created.UTC()
			r.CreateDate = &t
			r.Age = int(now.Sub(c.Created) / (24 * time.Hour))
			if now.Sub(c.Created) > 90*24*time.Hour {
				r.Flags = append(r.Flags, FlagOld)
			}
		}
		if !c.LastUsed.IsZero() {
			t := c.LastUsed.UTC()
			r.LastUsed = &t
		}
		switch {
		case c.Expires.IsZero():
			r.Flags = append(r.Flags, FlagNoExpiry)
		default:
			t := c.Expires.UTC()
			r.ExpiryDate = &t
			if !c.Expires.After(now) {
				r.Flags = append(r.Flags, FlagExpired)
			} else if c.Expires.Sub(now) <= 30*24*time.Hour {
				r.Flags = append(r.Flags, FlagExpiringSoon)
			}
			if !c.Created.IsZero() && c.Expires.Sub(c.Created) > 366*24*time.Hour {
				r.Flags = append(r.Flags, FlagLongValidity)
			}
		}
		if c.Rotatable && !c.HasRotationPolicy {
			r.Flags = append(r.Flags, FlagNoRotationPolicy)
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Age > rows[j].Age })
	return rows
}

// CredentialFindings turns flagged rows into findings: expired credentials
// that are enabled are high, those expiring within 30 days medium, the
// other flags low.
func CredentialFindings(rows []CredentialRow) []Finding {
	var out []Finding
	for _, r := range rows {
		if len(r.Flags) == 0 {
			continue
		}
		sev := Low
		for _, f := range r.Flags {
			switch {
			case f == FlagExpired && r.Enabled:
				sev = High
			case f == FlagExpiringSoon && sev != High:
				sev = Medium
			}
		}
		out = append(out, Finding{Report: "credentials", Kind: r.Kind, Severity: sev, ResourceID: r.Owner + "/" + r.Name,
			Message: fmt.Sprintf("%s (age %d days)", strings.Join(r.Flags, ", "), r.Age),
			Details: map[string]any{"credentialId": r.MaskedID, "flags": r.Flags, "age": r.Age}})
	}
	return out
}

// CredentialsTable is the log table of the credentials report.
const CredentialsTable = "StewardCredentials_CL"

// CredentialLogRows are the rows as the HTTP Data Collector API stores
// them in CredentialsTable (columns suffixed by type, Flags as JSON text,
// unknown dates empty), for the scheduled job's RecordFunc.
func CredentialLogRows(rows []CredentialRow) []map[string]any {
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		flags, _ := json.Marshal(r.Flags)
		out = append(out, map[string]any{"Kind_s": r.Kind, "Owner_s": r.Owner, "Name_s": r.Name, "CredentialId_s": r.MaskedID,
			"CreateDate_t": date(r.CreateDate), "ExpiryDate_t": date(r.ExpiryDate), "LastUsed_t": date(r.LastUsed),
			"Age_d": float64(r.Age), "Flags_s": string(flags), "Enabled_b": r.Enabled})
	}
	return out
}
