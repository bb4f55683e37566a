package interop

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// azRequest is a request the Azure CLI 2.45 sends that Steward once did not
// serve (docs/decisions/interop.md, "Fixed gaps"), as path and query.
type azRequest struct {
	Name, Probe string
}

// TestStewardAnswersTheRequestsAzSends sends, without az, each request
// that once stopped az 2.45 and checks Steward now answers it with 200.
func TestStewardAnswersTheRequestsAzSends(t *testing.T) {
	t.Parallel()
	s := serve(t)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool()}}}
	token := armToken(t, s, client)
	sub := "subscriptions/" + s.Info.SubscriptionID
	for _, c := range []azRequest{
		{"adfs-discovery", "adfs/.well-known/openid-configuration"},
		{"subscriptions-api-version", "subscriptions?api-version=2019-11-01"},
		{"resource-list-resourcegroup-filter", sub + "/resources?" + url.Values{"$filter": {"resourceGroup eq 'steward'"},
			"$expand": {"createdTime,changedTime,provisioningState"}, "api-version": {"2021-04-01"}}.Encode()},
		{"provider-list", sub + "/providers?api-version=2021-04-01"},
		{"activity-log-unquoted-timestamps", sub + "/providers/microsoft.insights/eventtypes/management/values?" + url.Values{
			"$filter":     {"eventTimestamp ge 2026-11-22T07:28:43.020280 and eventTimestamp le 2099-11-22T08:28:43.020280"},
			"api-version": {"2015-04-01"}}.Encode()},
	} {
		t.Run(c.Name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, s.BaseURL+c.Probe, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: %d %v", c.Probe, resp.StatusCode, body)
			}
		})
	}
}

// armToken gets an ARM token for the administrator with a client secret.
func armToken(t *testing.T, s *served, client *http.Client) string {
	t.Helper()
	return tokenFor(t, s, client, s.Info.TenantID, s.Info.ClientID, s.Info.ClientSecret, "https://management.azure.com/.default")
}
