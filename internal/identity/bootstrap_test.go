package identity

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestBootstrapCreatesAdminOnceAndItsSecretWorks(t *testing.T) {
	dir := t.TempDir()
	recs := NewMemRecords()
	svc := NewService(recs, Options{AuthorityHost: testAuthority})
	cfg := BootstrapConfig{DataDir: dir, AuthorityHost: testAuthority, ARMEndpoint: "https://arm.steward.test/", CACertPath: "/ca.pem"}
	info, created, err := svc.Bootstrap(context.Background(), cfg)
	if err != nil || !created {
		t.Fatalf("first bootstrap: created=%v err=%v", created, err)
	}
	for _, name := range []string{BootstrapFile, AdminCertFile} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	if info.TenantID == "" || info.SubscriptionID == "" || info.ClientID == "" || info.ClientSecret == "" ||
		info.CertificatePath != filepath.Join(dir, AdminCertFile) || info.CACertPath != "/ca.pem" {
		t.Errorf("info = %+v", info)
	}
	f := &fixture{svc: svc, tenant: Tenant{ID: info.TenantID}, app: Application{AppID: info.ClientID}, secret: info.ClientSecret}
	if rec := f.post(f.secretForm()); rec.Code != 200 {
		t.Fatalf("admin secret: %d %s", rec.Code, rec.Body)
	}

	// A restart (new service, same storage) reuses everything and updates
	// the endpoints that changed.
	svc2 := NewService(recs, Options{AuthorityHost: testAuthority})
	cfg.ARMEndpoint = "https://arm2.steward.test/"
	info2, created, err := svc2.Bootstrap(context.Background(), cfg)
	if err != nil || created {
		t.Fatalf("second bootstrap: created=%v err=%v", created, err)
	}
	if info2.TenantID != info.TenantID || info2.ClientSecret != info.ClientSecret || info2.ARMEndpoint != cfg.ARMEndpoint {
		t.Errorf("second bootstrap changed identity: %+v", info2)
	}
	read, err := ReadBootstrap(dir)
	if err != nil || read.ARMEndpoint != cfg.ARMEndpoint {
		t.Errorf("bootstrap.json not updated: %+v %v", read, err)
	}

	// A data directory whose store lost the tenant is an error, not a
	// silent re-bootstrap.
	if _, _, err := NewService(NewMemRecords(), Options{}).Bootstrap(context.Background(), cfg); err == nil {
		t.Error("bootstrap with an empty store accepted an existing bootstrap.json")
	}

	// A replica with a data directory of its own, on the same store, joins
	// the home tenant with credentials of its own.
	dir2 := t.TempDir()
	cfg.DataDir = dir2
	joined, created, err := NewService(recs, Options{AuthorityHost: testAuthority}).Bootstrap(context.Background(), cfg)
	if err != nil || !created {
		t.Fatalf("replica bootstrap: created=%v err=%v", created, err)
	}
	if joined.TenantID != info.TenantID || joined.ClientID != info.ClientID || joined.SubscriptionID != info.SubscriptionID ||
		joined.ClientSecret == info.ClientSecret {
		t.Errorf("replica = %+v, first = %+v", joined, info)
	}
	for _, secret := range []string{info.ClientSecret, joined.ClientSecret} {
		f.secret = secret
		if rec := f.post(f.secretForm()); rec.Code != 200 {
			t.Errorf("secret of one replica stopped working: %d", rec.Code)
		}
	}
}
