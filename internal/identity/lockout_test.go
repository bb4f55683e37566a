package identity

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestRepeatedFailuresLockTheClientOut(t *testing.T) {
	f := newFixture(t, testAuthority)
	wrong := f.secretForm()
	wrong.Set("client_secret", "guess")
	for i := 1; i < lockoutThreshold; i++ {
		if rec := f.post(wrong); rec.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	// The threshold-th failure locks the client out; from then on even
	// the right secret is refused, with Entra's lockout code and a
	// Retry-After.
	f.post(wrong)
	for _, form := range []url.Values{f.secretForm(), wrong} {
		rec := f.post(form)
		if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "AADSTS50053") {
			t.Fatalf("locked out: %d %s", rec.Code, rec.Body)
		}
		if ra := rec.Header().Get("Retry-After"); ra != "60" {
			t.Fatalf("Retry-After = %q, want 60", ra)
		}
	}
	// Another client of the tenant is not affected.
	if rec := f.post(url.Values{"grant_type": {"client_credentials"}, "client_id": {"00000000-0000-0000-0000-000000000009"},
		"client_secret": {"x"}, "scope": {"https://management.azure.com/.default"}}); rec.Code == http.StatusTooManyRequests {
		t.Fatalf("unknown client locked out: %s", rec.Body)
	}
	// After the lockout the right secret works, and resets the count.
	f.clock.Add(lockoutDuration)
	if rec := f.post(f.secretForm()); rec.Code != http.StatusOK {
		t.Fatalf("after lockout: %d %s", rec.Code, rec.Body)
	}
	if rec := f.post(wrong); rec.Code != http.StatusUnauthorized {
		t.Fatalf("one failure after success: %d %s", rec.Code, rec.Body)
	}
}

func TestFailuresSpreadBeyondTheWindowDoNotLockOut(t *testing.T) {
	f := newFixture(t, testAuthority)
	wrong := f.secretForm()
	wrong.Set("client_secret", "guess")
	for i := 0; i < 3*lockoutThreshold; i++ {
		if rec := f.post(wrong); rec.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", i, rec.Code, rec.Body)
		}
		f.clock.Add(lockoutWindow / (lockoutThreshold - 2))
	}
}

func TestBasicAuthWithAnotherCredentialIsRefused(t *testing.T) {
	f := newFixture(t, testAuthority)
	cases := []struct {
		name string
		form url.Values
		want int
	}{
		{"basic alone", url.Values{"grant_type": {"client_credentials"}, "scope": {"https://management.azure.com/.default"}}, http.StatusOK},
		{"basic and form secret", f.secretForm(), http.StatusBadRequest},
		{"basic and assertion", f.assertionForm(f.assertion(t, assertionOpts{})), http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "https://login.steward.test/"+f.tenant.ID+"/oauth2/v2.0/token", strings.NewReader(c.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(f.app.AppID), url.QueryEscape(f.secret))
			rec := serve(f.svc.Handler(), req)
			if rec.Code != c.want {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if c.want == http.StatusBadRequest && !strings.Contains(rec.Body.String(), "AADSTS9900002") {
				t.Fatalf("body %s", rec.Body)
			}
		})
	}
}
