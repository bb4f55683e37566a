package identity

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestDiscoveryDocumentPointsAtThisService(t *testing.T) {
	f := newFixture(t, testAuthority)
	for _, tenant := range []string{f.tenant.ID, "contoso.test"} {
		rec := serve(f.svc.Handler(), newRequest(http.MethodGet, "/"+tenant+"/v2.0/.well-known/openid-configuration", "", ""))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d %s", tenant, rec.Code, rec.Body)
		}
		var doc OpenIDConfiguration
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		base := "https://login.steward.test/" + f.tenant.ID
		if doc.Issuer != base+"/v2.0" || doc.TokenEndpoint != base+"/oauth2/v2.0/token" ||
			doc.JWKSURI != base+"/discovery/v2.0/keys" || doc.AuthorizationEndpoint == "" {
			t.Errorf("%s: document %+v", tenant, doc)
		}
	}
}

func TestJWKSPublishesTheSigningKey(t *testing.T) {
	f := newFixture(t, testAuthority)
	rec := serve(f.svc.Handler(), newRequest(http.MethodGet, "/"+f.tenant.ID+"/discovery/v2.0/keys", "", ""))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	var set JWKS
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	tok := issueFor(t, f, "https://management.azure.com/.default")
	kid := headerKID(t, tok)
	if len(set.Keys) != 1 || set.Keys[0].Kid != kid || set.Keys[0].Kty != "RSA" || set.Keys[0].E != "AQAB" || len(set.Keys[0].X5c) != 1 {
		t.Errorf("keys = %+v, token kid %s", set.Keys, kid)
	}
	// After rotation both keys are published and new tokens use the new one.
	if err := f.svc.Keys().Rotate(t.Context(), f.tenant.ID); err != nil {
		t.Fatal(err)
	}
	set2, err := f.svc.Keys().JWKS(t.Context(), f.tenant.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	tok2 := issueFor(t, f, "https://management.azure.com/.default")
	if len(set2.Keys) != 2 || headerKID(t, tok2) == kid {
		t.Errorf("after rotation: %d keys, new kid %s", len(set2.Keys), headerKID(t, tok2))
	}
	if _, err := f.validator().Validate(t.Context(), tok); err != nil {
		t.Errorf("token of the old key no longer validates: %v", err)
	}
}

func TestDiscoveryUnknownTenantIsEntraError(t *testing.T) {
	f := newFixture(t, testAuthority)
	for _, p := range []string{"/nope/v2.0/.well-known/openid-configuration", "/nope/discovery/v2.0/keys"} {
		rec := serve(f.svc.Handler(), newRequest(http.MethodGet, p, "", ""))
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != http.StatusBadRequest || body["error"] != "invalid_request" {
			t.Errorf("%s: %d %s", p, rec.Code, rec.Body)
		}
	}
}

func TestMatchesRecognisesOnlyTokenServicePaths(t *testing.T) {
	cases := map[string]bool{
		"/t/oauth2/v2.0/token":                     true,
		"/t/v2.0/.well-known/openid-configuration": true,
		"/t/discovery/v2.0/keys":                   true,
		"/subscriptions/x":                         false,
		"/oauth2/v2.0/token":                       false,
		"//oauth2/v2.0/token":                      false,
		"/t/oauth2/v2.0/token/extra":               false,
	}
	for p, want := range cases {
		if got := Matches(p); got != want {
			t.Errorf("Matches(%q) = %v, want %v", p, got, want)
		}
	}
}

func headerKID(t *testing.T, raw string) string {
	t.Helper()
	tok, err := parseAssertion(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Headers[0].KeyID
}

func TestMultiTenantDiscoveryDocuments(t *testing.T) {
	svc := NewService(NewMemRecords(), Options{AuthorityHost: "https://localhost:8443/"})
	for _, seg := range []string{"common", "organizations", "consumers"} {
		req := httptest.NewRequest(http.MethodGet, "https://localhost:8443/"+seg+"/v2.0/.well-known/openid-configuration", nil)
		rec := httptest.NewRecorder()
		svc.Handler().ServeHTTP(rec, req)
		var doc OpenIDConfiguration
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", seg, rec.Code, rec.Body)
		}
		if doc.Issuer != "https://localhost:8443/{tenantid}/v2.0" || doc.TokenEndpoint != "https://localhost:8443/"+seg+"/oauth2/v2.0/token" {
			t.Errorf("%s: issuer %q token endpoint %q", seg, doc.Issuer, doc.TokenEndpoint)
		}
	}
}
