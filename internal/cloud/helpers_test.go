package cloud_test

import (
	"context"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/steward-gov/steward/internal/server"
)

// env is a Steward opened in a temporary directory, reached in process by
// the Azure SDK with the administrator's credentials.
type env struct {
	s    *server.Steward
	cred azcore.TokenCredential
	opts *azarm.ClientOptions
	sub  string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	s, err := server.Open(context.Background(), cfg, nil, server.CloudService())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	info := s.Bootstrap
	cloudCfg := azcloud.Configuration{ActiveDirectoryAuthorityHost: s.BaseURL,
		Services: map[azcloud.ServiceName]azcloud.ServiceConfiguration{
			azcloud.ResourceManager: {Endpoint: s.BaseURL, Audience: "https://management.azure.com"},
		}}
	co := azcore.ClientOptions{Cloud: cloudCfg, Transport: s.Transport(), Retry: policy.RetryOptions{MaxRetries: -1}}
	cred, err := azidentity.NewClientSecretCredential(info.TenantID, info.ClientID, info.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return &env{s: s, cred: cred, opts: &azarm.ClientOptions{ClientOptions: co}, sub: info.SubscriptionID}
}
