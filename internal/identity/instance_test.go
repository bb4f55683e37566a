package identity

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestInstanceDiscoveryAndAzureHosts(t *testing.T) {
	svc := NewService(NewMemRecords(), Options{AuthorityHost: "https://localhost:8443/", Hosts: []string{"login.microsoftonline.com", "login.windows.net"}})
	ask := func(host, endpoint string) (int, map[string]any) {
		q := url.Values{"api-version": {"1.1"}}
		if endpoint != "" {
			q.Set("authorization_endpoint", endpoint)
		}
		req := httptest.NewRequest(http.MethodGet, "https://"+host+InstanceDiscoveryPath+"?"+q.Encode(), nil)
		req.TLS = &tls.ConnectionState{}
		rec := httptest.NewRecorder()
		svc.Handler().ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	cases := []struct {
		host, endpoint string
		status         int
		discovery      string
	}{
		{"login.microsoftonline.com", "https://login.microsoftonline.com/contoso/oauth2/v2.0/authorize", 200,
			"https://login.microsoftonline.com/contoso/v2.0/.well-known/openid-configuration"},
		{"login.microsoftonline.com", "https://login.windows.net/t1/oauth2/v2.0/authorize", 200,
			"https://login.windows.net/t1/v2.0/.well-known/openid-configuration"},
		{"localhost:8443", "https://localhost:8443/t1/oauth2/v2.0/authorize", 200,
			"https://localhost:8443/t1/v2.0/.well-known/openid-configuration"},
		{"login.microsoftonline.com", "https://login.example.com/t1/oauth2/v2.0/authorize", 400, ""},
		{"login.microsoftonline.com", "http://login.microsoftonline.com/t1/oauth2/v2.0/authorize", 400, ""},
		{"login.microsoftonline.com", "", 400, ""},
	}
	for _, c := range cases {
		st, out := ask(c.host, c.endpoint)
		if st != c.status || (c.discovery != "" && out["tenant_discovery_endpoint"] != c.discovery) {
			t.Errorf("%s %s: %d %v", c.host, c.endpoint, st, out)
		}
	}
	// Discovery documents follow the host the client used, as msal-go
	// checks the issuer's host against the authority's.
	req := httptest.NewRequest(http.MethodGet, "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration", nil)
	req.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	svc.Handler().ServeHTTP(rec, req)
	var doc OpenIDConfiguration
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Issuer != "https://login.microsoftonline.com/{tenantid}/v2.0" ||
		doc.TokenEndpoint != "https://login.microsoftonline.com/common/oauth2/v2.0/token" {
		t.Errorf("discovery through login.microsoftonline.com: %v %+v", err, doc)
	}
}
