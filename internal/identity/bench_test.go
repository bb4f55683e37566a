package identity

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/steward-gov/steward/internal/store"
)

// The benchmarks drive the token endpoint through its HTTP handler (form
// parsing, directory reads on in-memory records, credential check, RS256
// signing) and the validator, without a network.

func BenchmarkTokenClientSecret(b *testing.B) {
	f := newFixture(b, testAuthority)
	form := f.secretForm()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := f.post(form); rec.Code != http.StatusOK {
			b.Fatalf("status %d %s", rec.Code, rec.Body)
		}
	}
}

func BenchmarkTokenClientAssertion(b *testing.B) {
	benchAssertions(b, newFixture(b, testAuthority))
}

// BenchmarkTokenClientAssertionSQLite adds the durable jti write (one
// SQLite commit per assertion) to the assertion flow.
func BenchmarkTokenClientAssertionSQLite(b *testing.B) {
	f := newFixture(b, testAuthority)
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "s.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	// Copy the fixture's directory into the store, then serve from it.
	mem := f.svc.dir.recs.(*MemRecords)
	recs := StoreRecords{Store: st}
	for table, rows := range mem.data {
		for k, v := range rows {
			if err := recs.Put(context.Background(), table, k, v); err != nil {
				b.Fatal(err)
			}
		}
	}
	f.svc = NewService(recs, f.svc.opts)
	benchAssertions(b, f)
}

// benchAssertions posts fresh assertions; they are made outside the timer,
// since signing them is the client's cost, not the server's.
func benchAssertions(b *testing.B, f *fixture) {
	forms := make([]map[string][]string, 0, 2048)
	next := 0
	refill := func() {
		forms = forms[:0]
		for range cap(forms) {
			forms = append(forms, f.assertionForm(f.assertion(b, assertionOpts{})))
		}
		next = 0
	}
	refill()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if next == len(forms) {
			b.StopTimer()
			refill()
			b.StartTimer()
		}
		if rec := f.post(forms[next]); rec.Code != http.StatusOK {
			b.Fatalf("status %d %s", rec.Code, rec.Body)
		}
		next++
	}
}

func BenchmarkValidate(b *testing.B) {
	f := newFixture(b, testAuthority)
	tok := issueFor(b, f, "https://management.azure.com/.default")
	v := f.validator()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Validate(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateParallel(b *testing.B) {
	f := newFixture(b, testAuthority)
	tok := issueFor(b, f, "https://management.azure.com/.default")
	v := f.validator()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Validate(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkTokenClientSecretSQLite is the secret flow on the embedded
// SQLite store, as `steward serve` runs it by default.
func BenchmarkTokenClientSecretSQLite(b *testing.B) {
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "s.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := NewService(StoreRecords{Store: st}, Options{AuthorityHost: testAuthority})
	info, _, err := svc.Bootstrap(context.Background(), BootstrapConfig{DataDir: b.TempDir(), AuthorityHost: testAuthority})
	if err != nil {
		b.Fatal(err)
	}
	f := &fixture{svc: svc, tenant: Tenant{ID: info.TenantID}, app: Application{AppID: info.ClientID}, secret: info.ClientSecret}
	form := f.secretForm()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := f.post(form); rec.Code != http.StatusOK {
			b.Fatalf("status %d %s", rec.Code, rec.Body)
		}
	}
}
