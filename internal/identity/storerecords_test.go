package identity

import (
	"context"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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
	modifyContract(t, r)
}

// modifyContract checks Modify: it creates, changes and deletes, writes
// nothing when fn fails, and concurrent Modifys of one key lose no
// update.
func modifyContract(t *testing.T, r Records) {
	ctx := context.Background()
	incr := func(cur []byte, found bool) ([]byte, bool, error) {
		n := 0
		if found {
			n, _ = strconv.Atoi(string(cur))
		}
		return []byte(strconv.Itoa(n + 1)), false, nil
	}
	if err := r.Modify(ctx, "identity.t", "m/1", incr); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := r.Modify(ctx, "identity.t", "m/1", func([]byte, bool) ([]byte, bool, error) { return []byte("x"), false, boom }); !errors.Is(err, boom) {
		t.Fatalf("Modify with a failing fn: %v", err)
	}
	const workers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				errs <- r.Modify(ctx, "identity.t", "m/1", incr)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if v, err := r.Get(ctx, "identity.t", "m/1"); err != nil || string(v) != strconv.Itoa(1+workers*each) {
		t.Fatalf("after concurrent Modifys: %q %v; want %d", v, err, 1+workers*each)
	}
	del := func([]byte, bool) ([]byte, bool, error) { return nil, true, nil }
	if err := r.Modify(ctx, "identity.t", "m/1", del); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, "identity.t", "m/1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after a deleting Modify: %v", err)
	}
	if err := r.Modify(ctx, "identity.t", "m/2", del); err != nil {
		t.Fatalf("a deleting Modify of a missing key: %v", err)
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
