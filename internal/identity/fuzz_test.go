package identity

import (
	"context"
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
		_ = fx.svc.verifyAssertion(context.Background(), fx.tenant.ID, fx.tenant.ID, app, raw, []string{testAuthority}, time.Now())
	})
}
