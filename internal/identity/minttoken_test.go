package identity

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestIssueUserTokenCarriesHowTheUserSignedIn(t *testing.T) {
	f := newFixture(t, "https://login.steward.test/")
	ctx := context.Background()
	u, err := f.svc.CreateUser(ctx, f.tenant.ID, "ann@contoso.test", "Ann", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.svc.CreateGroup(ctx, f.tenant.ID, "approvers", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	at := f.clock.Now().Add(-3 * time.Minute).Truncate(time.Second)
	tok, _, err := f.svc.IssueUserToken(ctx, f.tenant.ID, u.ID, f.app.AppID, "api://steward-test", SignIn{AMR: []string{"pwd", "mfa"}, AuthTime: at})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.validator().Validate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.IdentityType != "user" || p.ObjectID != u.ID || !slices.Contains(p.Groups, g.ID) || p.AppID != f.app.AppID {
		t.Fatalf("principal %+v", p)
	}
	if !slices.Equal(p.AMR, []string{"pwd", "mfa"}) || !p.AuthTime.Equal(at) {
		t.Fatalf("sign-in: amr %v, auth_time %v", p.AMR, p.AuthTime)
	}
	if _, _, err := f.svc.IssueUserToken(ctx, f.tenant.ID, "00000000-0000-0000-0000-000000000009", f.app.AppID, "api://steward-test", SignIn{}); err == nil {
		t.Fatal("a token for an unknown user")
	}
}
