package identity

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestTokenEndpointReportsWhichCredentialAuthenticated checks that a client
// secret, a certificate assertion and a federated token each report their
// own keyId (the federated credential's id), and that a failed
// authentication reports nothing.
func TestTokenEndpointReportsWhichCredentialAuthenticated(t *testing.T) {
	f := newFixture(t, testAuthority)
	ctx := context.Background()
	var mu sync.Mutex
	var got []CredentialUse
	f.svc.opts.CredentialUsed = func(u CredentialUse) {
		mu.Lock()
		got = append(got, u)
		mu.Unlock()
	}
	ci := newOIDCIssuer(t)
	const subject = "repo:contoso/app:environment:prod"
	fic, err := f.svc.AddFederatedCredential(ctx, f.tenant.ID, f.app.AppID, FederatedIdentityCredential{Name: "prod", Issuer: ci.srv.URL, Subject: subject})
	if err != nil {
		t.Fatal(err)
	}
	bad := f.secretForm()
	bad.Set("client_secret", "not-the-secret")
	if rec := f.post(bad); rec.Code != 401 {
		t.Fatalf("wrong secret: %d %s", rec.Code, rec.Body)
	}
	for name, form := range map[string]map[string][]string{
		"secret":      f.secretForm(),
		"certificate": f.assertionForm(f.assertion(t, assertionOpts{})),
		"federated":   f.assertionForm(ci.mint(t, ci.key, ci.srv.URL, subject, DefaultFederatedAudience, f.clock.Now().Add(time.Hour))),
	} {
		if rec := f.post(form); rec.Code != 200 {
			t.Fatalf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	want := map[string]string{
		CredentialPassword:    f.app.PasswordCredentials[0].KeyID,
		CredentialCertificate: f.app.KeyCredentials[0].KeyID,
		CredentialFederated:   fic.ID,
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("reported %d uses, want 3 (none for the wrong secret): %+v", len(got), got)
	}
	for _, u := range got {
		if want[u.Kind] == "" || u.KeyID != want[u.Kind] {
			t.Errorf("%s reported key %q, want %q", u.Kind, u.KeyID, want[u.Kind])
		}
		if u.AppID != f.app.AppID || u.AppObjectID != f.app.ObjectID || u.TenantID != f.tenant.ID || !u.Time.Equal(f.clock.Now()) {
			t.Errorf("use %+v: want app %s (object %s), tenant %s, time %s", u, f.app.AppID, f.app.ObjectID, f.tenant.ID, f.clock.Now())
		}
		delete(want, u.Kind)
	}
}
