package identity

import (
	"context"
	"net/http"
	"net/url"
	"testing"
)

// FuzzAuthorizeEndpoint sends arbitrary queries to the authorization
// endpoint: the answer is a page or a redirect to the registered URI, never
// a 5xx, and never a redirect anywhere else.
func FuzzAuthorizeEndpoint(f *testing.F) {
	fx := newFixture(f, testAuthority)
	app := fx.app
	app.Properties = Properties{"web": []byte(`{"redirectUris":["https://app.test/cb"]}`)}
	if err := fx.svc.Directory().PutApplication(context.Background(), app); err != nil {
		f.Fatal(err)
	}
	good := url.Values{"client_id": {app.AppID}, "redirect_uri": {"https://app.test/cb"}, "response_type": {"code"},
		"scope": {"openid api://steward-test/.default"}, "state": {"s"}, "nonce": {"n"}}
	f.Add(good.Encode())
	good.Set("claims", `{"id_token":{"acrs":{"essential":true,"values":["c1","c2"]}}}`)
	good.Set("max_age", "0")
	good.Set("prompt", "none")
	f.Add(good.Encode())
	good.Set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	good.Set("code_challenge_method", "S256")
	f.Add(good.Encode())
	f.Add("client_id=" + app.AppID + "&redirect_uri=https%3A%2F%2Fevil.test%2F&scope=a%2Fb%20c%2Fd")
	f.Add("%zz&claims={")
	h := fx.svc.Handler()
	f.Fuzz(func(t *testing.T, query string) {
		req := newRequest(http.MethodGet, "/"+fx.tenant.ID+"/oauth2/v2.0/authorize?"+query, "", "")
		rec := serve(h, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, query)
		}
		if loc := rec.Header().Get("Location"); loc != "" {
			u, err := url.Parse(loc)
			if err != nil || u.Scheme != "https" || u.Host != "app.test" || u.Path != "/cb" {
				t.Fatalf("redirect to %q for %q", loc, query)
			}
		}
	})
}

// FuzzClaimsParameter feeds arbitrary claims and acr_values to the step-up
// reader: an error or a bounded list, never a panic.
func FuzzClaimsParameter(f *testing.F) {
	f.Add(`{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`, "c2 c3")
	f.Add(`{"id_token":{"acrs":null,"auth_time":{"essential":true}}}`, "")
	f.Add(`[]`, "")
	f.Fuzz(func(t *testing.T, claims, acrValues string) {
		out, err := requestedACRS(claims, acrValues)
		if err == nil {
			for _, v := range out {
				if v == "" || len(v) > 64 {
					t.Fatalf("acr %q from %q %q", v, claims, acrValues)
				}
			}
		}
		_, _ = splitScope(claims)
	})
}
