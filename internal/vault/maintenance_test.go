package vault

import (
	"context"
	"testing"
	"time"
)

func TestMaintainPurgesRotatesAndRenewsWhenDue(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	svc := NewService(f.st, f.sealer, Options{Now: func() time.Time { return now }})
	v := f.vault
	v.URL = "https://testvault.vault.azure.net"

	if _, err := svc.SetSecret(ctx, v, "old", SecretSetParams{Value: strPtr("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DeleteSecret(ctx, v, "old"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateKey(ctx, v, "rotating", KeyCreateParams{Kty: "EC"}); err != nil {
		t.Fatal(err)
	}
	var rotate LifetimeAction
	rotate.Trigger.TimeAfterCreate = "P30D"
	rotate.Action.Type = "Rotate"
	if _, err := svc.SetRotationPolicy(ctx, v, "rotating", KeyRotationPolicy{LifetimeActions: []LifetimeAction{rotate},
		Attributes: &PolicyTimes{ExpiryTime: "P90D"}}); err != nil {
		t.Fatal(err)
	}
	pol := &CertificatePolicy{Issuer: &IssuerParameters{Name: "Self"}, X509Props: &X509Properties{Subject: "CN=renew", ValidityMonths: 12},
		KeyProps: &KeyProperties{Kty: "EC"}}
	if _, err := svc.CreateCertificate(ctx, v, "renewing", CertificateCreateParams{Policy: pol}); err != nil {
		t.Fatal(err)
	}
	versions := func(k kind, name string) int {
		var n int
		err := svc.view(ctx, func(tx sealedTx) error {
			vers, _, err := listVersions(ctx, tx, v, k, name, "", 100)
			n = len(vers)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	steps := []struct {
		at   time.Duration
		want MaintenanceReport
	}{
		{24 * time.Hour, MaintenanceReport{}},
		{31 * 24 * time.Hour, MaintenanceReport{RotatedKeys: 1}},
		{32 * 24 * time.Hour, MaintenanceReport{}},
		{91 * 24 * time.Hour, MaintenanceReport{Purged: 1, RotatedKeys: 1}},
		{300 * 24 * time.Hour, MaintenanceReport{RotatedKeys: 1, RenewedCertificates: 1}},
		{301 * 24 * time.Hour, MaintenanceReport{}},
	}
	start := now
	for _, s := range steps {
		now = start.Add(s.at)
		rep, err := svc.Maintain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep != s.want {
			t.Fatalf("day %d: %+v, want %+v", int(s.at.Hours()/24), rep, s.want)
		}
	}
	if n := versions(kindKey, "rotating"); n != 4 {
		t.Fatalf("key versions = %d, want 4", n)
	}
	if n := versions(kindCert, "renewing"); n != 2 {
		t.Fatalf("certificate versions = %d, want 2", n)
	}
	k, err := svc.GetKey(ctx, v, "rotating", "")
	if err != nil || k.Attributes.Expires == nil || *k.Attributes.Expires != now.Add(-time.Hour*24).AddDate(0, 0, 90).Unix() {
		t.Fatalf("rotated key expiry = %v, %v", k.Attributes.Expires, err)
	}
	if _, err := svc.GetDeletedSecret(ctx, v, "old"); !isNotFound(err) {
		t.Fatalf("deleted secret after retention: %v", err)
	}
}

func TestParseISODuration(t *testing.T) {
	base := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		ok   bool
		want time.Time
	}{
		{"P90D", true, base.AddDate(0, 0, 90)},
		{"P2Y", true, base.AddDate(2, 0, 0)},
		{"P1Y6M", true, base.AddDate(1, 6, 0)},
		{"P2W", true, base.AddDate(0, 0, 14)},
		{"PT12H30M", true, base.Add(12*time.Hour + 30*time.Minute)},
		{"P1DT1S", true, base.AddDate(0, 0, 1).Add(time.Second)},
		{"P", false, time.Time{}},
		{"90D", false, time.Time{}},
		{"P1H", false, time.Time{}},
		{"PT", false, time.Time{}},
		{"P1", false, time.Time{}},
		{"PD", false, time.Time{}},
	}
	for _, c := range cases {
		d, ok := parseISODuration(c.in)
		if ok != c.ok || ok && !d.after(base).Equal(c.want) {
			t.Errorf("%s: ok=%v after=%v, want ok=%v %v", c.in, ok, d.after(base), c.ok, c.want)
		}
	}
}

func strPtr(s string) *string { return &s }
