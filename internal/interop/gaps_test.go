package interop

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestShimBridgesOnlyOpenGaps sends each gap's probe to Steward itself
// (not through the shim): while Steward answers it as today, the gap is
// open and its bridge is needed; once Steward serves it, the test fails so
// the bridge and its entry in docs/decisions/interop.md go.
func TestShimBridgesOnlyOpenGaps(t *testing.T) {
	t.Parallel()
	s := serve(t)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool()}}}
	token := armToken(t, s, client)
	for _, g := range gaps {
		t.Run(g.Name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, s.BaseURL+g.Probe, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != g.Today {
				t.Errorf("GET %s: %d, while the gap was open %d: if Steward now serves it, remove bridge %s and its entry in docs/decisions/interop.md",
					g.Probe, resp.StatusCode, g.Today, g.Name)
			}
		})
	}
}

// armToken gets an ARM token for the administrator with a client secret.
func armToken(t *testing.T, s *served, client *http.Client) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.Info.ClientID},
		"client_secret": {s.Info.ClientSecret}, "scope": {"https://management.azure.com/.default"}}
	resp, err := client.Post(s.BaseURL+s.Info.TenantID+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}
