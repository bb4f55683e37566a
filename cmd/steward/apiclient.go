package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/server"
)

// apiClient is what the API commands need to call Steward's management
// API through the Azure SDK: a credential, client options pointing at the
// ARM endpoint, and the subscription to work in.
type apiClient struct {
	cred         azcore.TokenCredential
	opts         *azarm.ClientOptions
	subscription string
}

// addAPIFlags adds the flags that select the Steward to call.
func addAPIFlags(cmd *cobra.Command) {
	cmd.Flags().String("data", "", "data directory whose bootstrap.json holds the credentials (also STEWARD_DATA; default $XDG_DATA_HOME/steward or ~/.local/share/steward)")
	cmd.Flags().String("subscription", "", "subscription ID (default: AZURE_SUBSCRIPTION_ID or the bootstrap subscription)")
}

// newAPIClient builds the client from the AZURE_* environment (when
// AZURE_RESOURCE_MANAGER_ENDPOINT, AZURE_TENANT_ID and AZURE_CLIENT_ID are
// set and --data is not) or from DATA/bootstrap.json.
func newAPIClient(cmd *cobra.Command) (*apiClient, error) {
	sub, _ := cmd.Flags().GetString("subscription")
	explicitData := cmd.Flags().Changed("data")
	if ep := os.Getenv("AZURE_RESOURCE_MANAGER_ENDPOINT"); ep != "" && !explicitData &&
		os.Getenv("AZURE_TENANT_ID") != "" && os.Getenv("AZURE_CLIENT_ID") != "" {
		if err := checkReachable(cmd.Context(), ep, os.Getenv("STEWARD_DATA")); err != nil {
			return nil, err
		}
		return envClient(ep, sub)
	}
	dir := dataDir(cmd)
	info, err := identity.ReadBootstrap(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &exitError{code: exitUnreachable, msg: fmt.Sprintf("%s has no bootstrap.json: start `steward serve --data %s` once, or set the AZURE_* variables (`steward env`)", dir, dir)}
	}
	if err != nil {
		return nil, usageError("%s: %v", filepath.Join(dir, "bootstrap.json"), err)
	}
	if err := checkReachable(cmd.Context(), info.ARMEndpoint, dir); err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if pem, err := os.ReadFile(info.CACertPath); err == nil {
		pool.AppendCertsFromPEM(pem)
	} else if pem, err := os.ReadFile(server.CAPath(dir)); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	co := clientOptions(info.AuthorityHost, info.ARMEndpoint,
		&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}})
	cred, err := azidentity.NewClientSecretCredential(info.TenantID, info.ClientID, info.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: true})
	if err != nil {
		return nil, err
	}
	if sub == "" {
		sub = os.Getenv("AZURE_SUBSCRIPTION_ID")
	}
	if sub == "" {
		sub = info.SubscriptionID
	}
	return &apiClient{cred: cred, opts: &azarm.ClientOptions{ClientOptions: co}, subscription: sub}, nil
}

// envClient uses EnvironmentCredential; the CA is trusted through
// SSL_CERT_FILE as `steward env` sets it.
func envClient(endpoint, sub string) (*apiClient, error) {
	authority := os.Getenv("AZURE_AUTHORITY_HOST")
	if authority == "" {
		authority = endpoint
	}
	co := clientOptions(authority, endpoint, nil)
	cred, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: true})
	if err != nil {
		return nil, err
	}
	if sub == "" {
		sub = os.Getenv("AZURE_SUBSCRIPTION_ID")
	}
	if sub == "" {
		return nil, &exitError{code: 1, msg: "no subscription: pass --subscription or set AZURE_SUBSCRIPTION_ID"}
	}
	return &apiClient{cred: cred, opts: &azarm.ClientOptions{ClientOptions: co}, subscription: sub}, nil
}

func clientOptions(authority, endpoint string, transport *http.Client) azcore.ClientOptions {
	endpoint = strings.TrimSuffix(endpoint, "/")
	co := azcore.ClientOptions{Cloud: azcloud.Configuration{
		ActiveDirectoryAuthorityHost: authority,
		Services: map[azcloud.ServiceName]azcloud.ServiceConfiguration{
			azcloud.ResourceManager: {Endpoint: endpoint, Audience: "https://management.azure.com"},
		}}}
	if transport != nil {
		co.Transport = transport
	}
	return co
}

// parseTags reads k=v pairs.
func parseTags(pairs []string) (map[string]*string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	tags := map[string]*string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("tag %q: want key=value", p)
		}
		tags[k] = &v
	}
	return tags, nil
}

// formatTags renders tags as k=v, sorted.
func formatTags(tags map[string]*string) string {
	var out []string
	for k, v := range tags {
		val := ""
		if v != nil {
			val = *v
		}
		out = append(out, k+"="+val)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
