package server

import (
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// ARMClientOptions are Azure SDK client options that reach this Steward in
// process, without a socket: its token service as the authority, its
// management API as Resource Manager, and the in-process transport.
// Retries are off, so a caller sees Steward's first answer; set Retry to
// have them.
func (s *Steward) ARMClientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud: azcloud.Configuration{ActiveDirectoryAuthorityHost: s.BaseURL,
			Services: map[azcloud.ServiceName]azcloud.ServiceConfiguration{
				azcloud.ResourceManager: {Endpoint: s.BaseURL, Audience: "https://management.azure.com"},
			}},
		Transport: s.Transport(),
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
}

// SecretCredential is the client-secret credential of an application of
// the home tenant, getting its tokens from this Steward in process.
func (s *Steward) SecretCredential(clientID, secret string) (azcore.TokenCredential, error) {
	return azidentity.NewClientSecretCredential(s.Bootstrap.TenantID, clientID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: s.ARMClientOptions(), DisableInstanceDiscovery: true})
}
