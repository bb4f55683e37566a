package identity

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// FuzzParseAssertion feeds arbitrary strings to the assertion parser and to
// the validator: they must return errors, never panic.
func FuzzParseAssertion(f *testing.F) {
	fx := newFixture(f, testAuthority)
	f.Add(fx.assertion(f, assertionOpts{}))
	f.Add(issueFor(f, fx, "https://management.azure.com/.default"))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("")
	v := fx.validator()
	f.Fuzz(func(t *testing.T, raw string) {
		_, _ = parseAssertion(raw)
		_, _ = v.Validate(context.Background(), raw)
		app := fx.app
		_, _ = fx.svc.verifyAssertion(context.Background(), fx.tenant.ID, fx.tenant.ID, app, raw, []string{testAuthority}, time.Now())
	})
}

// FuzzTokenEndpoint posts arbitrary form bodies to the token endpoint: the
// answer is always a token or an Entra-style 400/401, never a 5xx.
func FuzzTokenEndpoint(f *testing.F) {
	fx := newFixture(f, testAuthority)
	f.Add(fx.secretForm().Encode())
	f.Add(fx.assertionForm(fx.assertion(f, assertionOpts{})).Encode())
	f.Add("grant_type=client_credentials&scope=%2F.default&client_id=x&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c")
	f.Add("grant_type=client_credentials&scope=openid")
	f.Add("%zz")
	h := fx.svc.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := newRequest(http.MethodPost, "/"+fx.tenant.ID+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", body)
		rec := serve(h, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized:
		default:
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
	})
}
