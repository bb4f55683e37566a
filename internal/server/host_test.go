package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/identity"
)

// TestForgedHostIsNotReflectedInURLs lists with paging and reads a vault
// secret under Host headers that are not hosts: the nextLink and the
// object ID are built from the public URL instead; a valid Host is used
// as given (a client behind the forward proxy needs its own host back).
func TestForgedHostIsNotReflectedInURLs(t *testing.T) {
	s, _ := startSteward(t, t.TempDir(), CloudService(), VaultService(VaultOptions{}))
	tok := adminARMToken(t, s)
	h := s.Server.Handler()
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	for _, rg := range []string{"h1", "h2"} {
		r := httptest.NewRequest("PUT", s.BaseURL+strings.TrimPrefix(sub, "/")+"/resourcegroups/"+rg+"?api-version=2021-04-01", strings.NewReader(`{"location":"westeurope"}`))
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 300 {
			t.Fatalf("create %s: %d %s", rg, w.Code, w.Body)
		}
	}
	public := strings.TrimSuffix(s.BaseURL, "/")
	cases := []struct {
		host, wantPrefix string
	}{
		{"a b", public},
		{"evil.example/x?", public},
		{"management.azure.com", "https://management.azure.com"},
	}
	for _, c := range cases {
		t.Run(c.host, func(t *testing.T) {
			r := httptest.NewRequest("GET", s.BaseURL+strings.TrimPrefix(sub, "/")+"/resourcegroups?api-version=2021-04-01&$top=1", nil)
			r.Host = c.host
			r.TLS = nil
			r.Header.Set("X-Forwarded-Proto", "https")
			r.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			var page struct{ NextLink string }
			if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || w.Code != http.StatusOK {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if !strings.HasPrefix(page.NextLink, c.wantPrefix+"/") {
				t.Fatalf("nextLink %q, want it under %s", page.NextLink, c.wantPrefix)
			}
		})
	}

	// The vault's path-form object IDs.
	resp, err := s.Identity.Token(context.Background(), identity.TokenRequest{Tenant: s.Bootstrap.TenantID, ClientID: s.Bootstrap.ClientID,
		ClientSecret: s.Bootstrap.ClientSecret, Scope: "https://vault.azure.net/.default", Authorities: []string{s.BaseURL}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("PUT", s.BaseURL+"vaults/steward/secrets/hosted?api-version=7.4", strings.NewReader(`{"value":"v"}`))
	r.Host = "a b"
	r.Header.Set("Authorization", "Bearer "+resp.AccessToken)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var bundle struct{ ID string }
	if err := json.Unmarshal(w.Body.Bytes(), &bundle); err != nil || w.Code != http.StatusOK {
		t.Fatalf("vault: %d %s", w.Code, w.Body)
	}
	if !strings.HasPrefix(bundle.ID, public+"/vaults/steward/secrets/hosted/") {
		t.Fatalf("vault object ID %q, want it under %s", bundle.ID, public)
	}
}
