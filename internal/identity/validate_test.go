package identity

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func issueFor(t testing.TB, f *fixture, scope string) string {
	t.Helper()
	form := f.secretForm()
	form.Set("scope", scope)
	rec := f.post(form)
	if rec.Code != http.StatusOK {
		t.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	return decodeToken(t, rec.Body.Bytes()).AccessToken
}

func TestValidatorRejects(t *testing.T) {
	f := newFixture(t, testAuthority)
	good := issueFor(t, f, "https://management.azure.com/.default")
	vault := issueFor(t, f, "https://vault.azure.net/.default")
	other := newFixture(t, testAuthority) // another service: unknown tenant and keys
	foreign := issueFor(t, other, "https://management.azure.com/.default")
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	cases := []struct {
		name    string
		token   string
		advance time.Duration
		mod     func(v *Validator)
		code    string
	}{
		{name: "garbage", token: "abc", code: "InvalidAuthenticationToken"},
		{name: "tampered signature", token: tampered, code: "InvalidAuthenticationToken"},
		{name: "wrong audience", token: vault, code: "InvalidAuthenticationTokenAudience"},
		{name: "expired beyond skew", token: good, advance: time.Hour + 6*time.Minute, code: "ExpiredAuthenticationToken"},
		{name: "not yet valid", token: good, advance: -10 * time.Minute, code: "InvalidAuthenticationToken"},
		{name: "unknown tenant key", token: foreign, code: "InvalidAuthenticationToken"},
		{name: "wrong issuer", token: good, mod: func(v *Validator) {
			v.Issuer = func(tid string) string { return IssuerFor("https://elsewhere/", tid) }
		}, code: "InvalidAuthenticationTokenTenant"},
		{name: "oversized", token: strings.Repeat("a", maxTokenBytes+1), code: "InvalidAuthenticationToken"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := f.validator()
			if c.mod != nil {
				c.mod(v)
			}
			base := f.clock.Now()
			v.Now = func() time.Time { return base.Add(c.advance) }
			_, err := v.Validate(context.Background(), c.token)
			var te *TokenError
			if !errors.As(err, &te) || te.Code != c.code {
				t.Fatalf("err = %v, want code %s", err, c.code)
			}
		})
	}
	t.Run("within skew after expiry", func(t *testing.T) {
		v := f.validator()
		base := f.clock.Now()
		v.Now = func() time.Time { return base.Add(time.Hour + 4*time.Minute) }
		if _, err := v.Validate(context.Background(), good); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMiddlewarePutsPrincipalInContext(t *testing.T) {
	f := newFixture(t, testAuthority)
	ctx := context.Background()
	inner, err := f.svc.CreateGroup(ctx, f.tenant.ID, "inner", f.sp.ID)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := f.svc.CreateGroup(ctx, f.tenant.ID, "outer", inner.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateGroup(ctx, f.tenant.ID, "unrelated"); err != nil {
		t.Fatal(err)
	}
	tok := issueFor(t, f, "https://management.azure.com/.default")
	var got Principal
	h := f.validator().Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = PrincipalFrom(r.Context())
	}))
	req := newRequest(http.MethodGet, "/subscriptions", "", "")
	req.Header.Set("Authorization", "Bearer "+tok)
	if rec := serve(h, req); rec.Code != http.StatusOK {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	want := []string{inner.ID, outer.ID}
	if strings.Join(got.Groups, ",") != strings.Join(sorted(want), ",") {
		t.Errorf("groups = %v, want %v", got.Groups, sorted(want))
	}
	if got.ObjectID != f.sp.ID {
		t.Errorf("principal = %+v", got)
	}
}

func TestMiddlewareAnswersARMEnvelope(t *testing.T) {
	f := newFixture(t, testAuthority)
	h := f.validator().Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("handler reached without a token")
	}))
	for _, authz := range []string{"", "Basic abc", "Bearer not-a-jwt"} {
		req := newRequest(http.MethodGet, "/subscriptions", "", "")
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := serve(h, req)
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%q: status %d, challenge %q", authz, rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
		var env struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Error.Code == "" {
			t.Errorf("%q: body %s", authz, rec.Body)
		}
	}
}

func TestTransitiveGroupsHandlesCycles(t *testing.T) {
	groups := []Group{
		{ID: "A", Members: []string{"u1", "B"}},
		{ID: "B", Members: []string{"C"}},
		{ID: "C", Members: []string{"A", "u2"}},
		{ID: "D", Members: []string{"u3"}},
	}
	cases := map[string]string{"u1": "a,b,c", "u2": "a,b,c", "u3": "d", "nobody": ""}
	for member, want := range cases {
		if got := strings.Join(transitive(groups, member), ","); got != want {
			t.Errorf("%s: groups %q, want %q", member, got, want)
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
