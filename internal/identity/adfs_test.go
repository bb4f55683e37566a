package identity

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
)

func TestADFSDiscoveryIsTheHomeTenantsDocument(t *testing.T) {
	svc := NewService(NewMemRecords(), Options{AuthorityHost: testAuthority})
	info, _, err := svc.Bootstrap(context.Background(), BootstrapConfig{DataDir: t.TempDir(), AuthorityHost: testAuthority})
	if err != nil {
		t.Fatal(err)
	}
	if !Matches(ADFSDiscoveryPath) {
		t.Errorf("Matches(%q) = false", ADFSDiscoveryPath)
	}
	rec := serve(svc.Handler(), newRequest(http.MethodGet, ADFSDiscoveryPath, "", ""))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	var got OpenIDConfiguration
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if want := Discovery(testAuthority, info.TenantID); got.TokenEndpoint != want.TokenEndpoint ||
		got.Issuer != want.Issuer || got.AuthorizationEndpoint != want.AuthorizationEndpoint || got.JWKSURI != want.JWKSURI {
		t.Errorf("document %+v, want the home tenant's %+v", got, want)
	}
}

func TestADFSDiscoveryWithoutHomeTenantOrByPostIsAnError(t *testing.T) {
	f := newFixture(t, testAuthority)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		rec := serve(f.svc.Handler(), newRequest(method, ADFSDiscoveryPath, "", ""))
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != http.StatusBadRequest || body["error"] != "invalid_request" {
			t.Errorf("%s without a home tenant: %d %s", method, rec.Code, rec.Body)
		}
	}
}
