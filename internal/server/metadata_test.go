package server

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// The cloud metadata document is a discovery document: it answers without
// a token and names Steward's own endpoints, so `az cloud register
// --endpoint-resource-manager` alone can configure the CLI.
func TestCloudMetadataIsServedWithoutAuthentication(t *testing.T) {
	s, _ := startSteward(t, t.TempDir(), CloudService())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool()}}}
	resp, err := client.Get(s.BaseURL + "metadata/endpoints?api-version=2022-09-01")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if doc["resourceManager"] != s.BaseURL {
		t.Errorf("resourceManager = %v, want %s (document %s)", doc["resourceManager"], s.BaseURL, body)
	}
	if doc["microsoftGraphResourceId"] != s.BaseURL+"graph/" {
		t.Errorf("microsoftGraphResourceId = %v, want %sgraph/", doc["microsoftGraphResourceId"], s.BaseURL)
	}
	// Graph, at that address, demands a token in Graph's error shape.
	resp3, err := client.Get(s.BaseURL + "graph/v1.0/organization")
	if err != nil {
		t.Fatal(err)
	}
	gbody, _ := io.ReadAll(resp3.Body)
	resp3.Body.Close()
	var gerr struct {
		Error struct {
			Code       string
			InnerError map[string]any
		}
	}
	if resp3.StatusCode != http.StatusUnauthorized || json.Unmarshal(gbody, &gerr) != nil ||
		gerr.Error.Code != "InvalidAuthenticationToken" || gerr.Error.InnerError["request-id"] == nil {
		t.Errorf("Graph without a token: %d %s", resp3.StatusCode, gbody)
	}
	// The management API itself still demands a token.
	resp2, err := client.Get(s.BaseURL + "subscriptions?api-version=2022-12-01")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusUnauthorized {
		t.Errorf("subscriptions without a token: status %d, want 401", resp2.StatusCode)
	}
}
