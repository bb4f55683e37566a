package reports

import (
	"strings"
	"testing"
	"time"
)

func TestAssessCredentials(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	creds := []Credential{
		{Kind: KindVaultSecret, Owner: "kv", Name: "fresh", ID: "https://kv.vault.azure.net/secrets/fresh/0123456789abcdef", Created: now.Add(-10 * day), Expires: now.Add(200 * day), Enabled: true},
		{Kind: KindVaultSecret, Owner: "kv", Name: "forever", ID: "x", Created: now.Add(-100 * day), Enabled: true},
		{Kind: KindAppPassword, Owner: "ci-app", Name: "pipeline", ID: "5f1c2a3b-0000-4000-8000-00000000abcd", Created: now.Add(-400 * day), Expires: now.Add(-1 * day), Enabled: true},
		{Kind: KindVaultKey, Owner: "kv", Name: "signing", ID: "k", Created: now.Add(-30 * day), Expires: now.Add(20 * day), Rotatable: true, Enabled: true},
		{Kind: KindVaultCertificate, Owner: "kv", Name: "tls", ID: "c", Created: now.Add(-5 * day), Expires: now.Add(720 * day), Rotatable: true, HasRotationPolicy: true, Enabled: true},
	}
	rows := AssessCredentials(creds, now)
	got := map[string]string{}
	for _, r := range rows {
		got[r.Name] = strings.Join(r.Flags, ",")
	}
	want := map[string]string{
		"fresh":    "",
		"forever":  "OlderThan90Days,NoExpiry",
		"pipeline": "OlderThan90Days,Expired,ValidityOver12Months",
		"signing":  "ExpiresWithin30Days,NoRotationPolicy",
		"tls":      "ValidityOver12Months",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: flags %q, want %q", k, got[k], v)
		}
	}
	if rows[0].Name != "pipeline" || rows[0].Age != 400 {
		t.Errorf("rows are not sorted oldest first: %+v", rows[0])
	}
	if m := rows[0].MaskedID; m != "5f1c****************abcd" {
		t.Errorf("masked ID %q", m)
	}
	fs := CredentialFindings(rows)
	sev := map[string]string{}
	for _, f := range fs {
		sev[f.ResourceID] = f.Severity
	}
	if sev["ci-app/pipeline"] != High || sev["kv/signing"] != Medium || sev["kv/forever"] != Low || len(fs) != 4 {
		t.Errorf("findings: %+v", fs)
	}
}
