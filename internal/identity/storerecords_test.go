package identity

import (
	"context"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// recordsContract is what the directory relies on from any Records.
func recordsContract(t *testing.T, r Records) {
	ctx := context.Background()
	if _, err := r.Get(ctx, "identity.t", "a/1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	for _, k := range []string{"a/2", "a/1", "b/1"} {
		if err := r.Put(ctx, "identity.t", k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Create(ctx, "identity.t", "a/1", []byte("x")); !errors.Is(err, ErrExists) {
		t.Fatalf("Create on existing key: %v", err)
	}
	if err := r.Create(ctx, "identity.t", "a/3", []byte("a/3")); err != nil {
		t.Fatal(err)
	}
	vals, err := r.List(ctx, "identity.t", "a/")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vals {
		got = append(got, string(v))
	}
	if len(got) != 3 || got[0] != "a/1" || got[1] != "a/2" || got[2] != "a/3" {
		t.Fatalf("List a/ = %v", got)
	}
	v, err := r.Get(ctx, "identity.t", "b/1")
	if err != nil || string(v) != "b/1" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	n, err := r.DeleteBefore(ctx, "identity.t", "a/3")
	if err != nil || n != 2 {
		t.Fatalf("DeleteBefore = %d, %v; want 2", n, err)
	}
	vals, err = r.List(ctx, "identity.t", "")
	if err != nil || len(vals) != 2 || string(vals[0]) != "a/3" {
		t.Fatalf("after DeleteBefore: %q %v", vals, err)
	}
}

func TestMemRecordsContract(t *testing.T) { recordsContract(t, NewMemRecords()) }

func TestStoreRecordsContractOnSQLite(t *testing.T) {
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	recordsContract(t, StoreRecords{Store: st})
}

func TestStoreRecordsContractOnPostgres(t *testing.T) {
	recordsContract(t, StoreRecords{Store: openPostgres(t)})
}

func openPostgres(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), storetest.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestTokenServiceRunsOnSQLiteStore(t *testing.T) {
	st := storetest.SQLite(t)
	tokenServiceOnStore(t, st)
}

func TestTokenServiceRunsOnPostgresStore(t *testing.T) {
	tokenServiceOnStore(t, openPostgres(t))
}

func tokenServiceOnStore(t *testing.T, st store.Store) {
	t.Helper()
	svc := NewService(StoreRecords{Store: st}, Options{AuthorityHost: testAuthority})
	info, _, err := svc.Bootstrap(context.Background(), BootstrapConfig{DataDir: t.TempDir(), AuthorityHost: testAuthority})
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(info.CertificatePath)
	if err != nil {
		t.Fatal(err)
	}
	certs, key, err := azidentity.ParseCertificates(pemBytes, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now()}
	f := &fixture{svc: svc, clock: clock, tenant: Tenant{ID: info.TenantID}, app: Application{AppID: info.ClientID},
		secret: info.ClientSecret, cert: certs[0], key: key.(*rsa.PrivateKey)}
	if rec := f.post(f.secretForm()); rec.Code != 200 {
		t.Fatalf("secret: %d %s", rec.Code, rec.Body)
	}
	// A second replica on the same store sees the first one's spent jti.
	replica := &fixture{svc: NewService(StoreRecords{Store: st}, Options{AuthorityHost: testAuthority}),
		tenant: f.tenant, app: f.app}
	a := f.assertion(t, assertionOpts{})
	if rec := f.post(f.assertionForm(a)); rec.Code != 200 {
		t.Fatalf("assertion: %d %s", rec.Code, rec.Body)
	}
	if rec := replica.post(f.assertionForm(a)); rec.Code != 401 || !strings.Contains(rec.Body.String(), "9900001") {
		t.Errorf("replay on the other replica: %d %s", rec.Code, rec.Body)
	}
}
