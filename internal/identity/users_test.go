package identity

import (
	"context"
	"testing"
)

func TestAuthenticateUser(t *testing.T) {
	f := newFixture(t, testAuthority)
	ctx := context.Background()
	u, err := f.svc.CreateUser(ctx, f.tenant.ID, "ada@contoso.test", "Ada", "s3cret-Passw0rd")
	if err != nil {
		t.Fatal(err)
	}
	disabled, err := f.svc.CreateUser(ctx, f.tenant.ID, "bob@contoso.test", "Bob", "pw")
	if err != nil {
		t.Fatal(err)
	}
	disabled.AccountEnabled = false
	if err := f.svc.Directory().PutUser(ctx, disabled); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.AuthenticateUser(ctx, f.tenant.ID, "ADA@contoso.test", "s3cret-Passw0rd")
	if err != nil || got.ID != u.ID {
		t.Fatalf("good password: %+v %v", got, err)
	}
	for _, c := range []struct{ upn, pw string }{
		{"ada@contoso.test", "wrong"},
		{"nobody@contoso.test", "s3cret-Passw0rd"},
		{"bob@contoso.test", "pw"},
	} {
		if _, err := f.svc.AuthenticateUser(ctx, f.tenant.ID, c.upn, c.pw); !ErrBadCredentials(err) {
			t.Errorf("%s: err = %v, want bad credentials", c.upn, err)
		}
	}
}

func TestDummyHashIsAValidHash(t *testing.T) {
	// An unparsable dummy would skip the argon2id work it exists to do.
	if _, err := CheckPassword(dummyHash, "x"); err != nil {
		t.Fatal(err)
	}
}
