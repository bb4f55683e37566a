package server

import (
	"context"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// SecretCredential gets ARM tokens from the Steward in process, and they
// validate against the same Steward.
func TestSecretCredentialGetsTokensInProcess(t *testing.T) {
	s, _ := startSteward(t, t.TempDir())
	b := s.Bootstrap
	cred, err := s.SecretCredential(b.ClientID, b.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: armScope})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.BaseURL+"steward/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := s.Transport().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("whoami with the token: status %d, want 200", resp.StatusCode)
	}
	if bad, _ := s.SecretCredential(b.ClientID, "wrong"); bad != nil {
		if _, err := bad.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: armScope}); err == nil {
			t.Error("a wrong secret got a token")
		}
	}
}
