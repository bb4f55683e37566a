package cloud

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// MetadataPath is where ARM publishes its cloud's endpoints, without
// authentication: GET /metadata/endpoints?api-version=...
const MetadataPath = "/metadata/endpoints"

// MetadataOptions are the endpoints the metadata document names.
type MetadataOptions struct {
	// Name is the cloud's name (default "Steward").
	Name string
	// ResourceManager is the management endpoint, with a trailing slash.
	ResourceManager string
	// Authority is the token service's base URL, with a trailing slash.
	Authority string
	// TenantID is the home tenant, named as the cloud's tenant.
	TenantID string
	// KeyVaultDNSSuffix is the vaults' DNS suffix (default
	// "vault.azure.net", the one clients are told to register).
	KeyVaultDNSSuffix string
	// MicrosoftGraph is the Microsoft Graph resource ID and base URL, with
	// a trailing slash: Steward's own "{BaseURL}graph/" (clients append
	// "v1.0/..."), or "https://graph.microsoft.com/" (the default) when a
	// proxy serves that host name.
	MicrosoftGraph string
}

// IsMetadataPath reports whether path is the metadata document's, also in
// the form "//metadata/endpoints" the Azure CLI builds from an endpoint
// with a trailing slash.
func IsMetadataPath(path string) bool {
	return strings.EqualFold(strings.TrimLeft(path, "/"), strings.TrimPrefix(MetadataPath, "/"))
}

// Metadata versions at which the document changed shape: before
// metadataListVersion it is the legacy object (galleryEndpoint,
// graphEndpoint, portalEndpoint, authentication); from it, a list of
// clouds; from metadataCloudVersion, one cloud object.
const (
	metadataListVersion  = "2019-05-01"
	metadataCloudVersion = "2022-09-01"
)

// MetadataHandler serves ARM's metadata document at MetadataPath. The
// legacy shape (api-version 2015-01-01, which msrestazure and so `az cloud
// register` before 2.53 read) names the ADFS-shaped authority
// "{Authority}adfs", the only one those clients can sign in with; the
// later shapes name the authority itself, as SDKs that append the tenant
// expect.
func MetadataHandler(opts MetadataOptions) http.Handler {
	if opts.Name == "" {
		opts.Name = "Steward"
	}
	if opts.KeyVaultDNSSuffix == "" {
		opts.KeyVaultDNSSuffix = "vault.azure.net"
	}
	if opts.MicrosoftGraph == "" {
		opts.MicrosoftGraph = "https://graph.microsoft.com/"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			arm.WriteError(w, methodNotAllowed(r.Method))
			return
		}
		doc, err := metadataDocument(opts, r.URL.Query())
		if err != nil {
			arm.WriteError(w, err)
			return
		}
		writeResponse(w, r, &Response{Status: http.StatusOK, Body: doc})
	})
}

// metadataDocument is the document in the shape the api-version asks for.
func metadataDocument(opts MetadataOptions, q url.Values) (any, error) {
	v := q.Get("api-version")
	if strings.TrimSpace(v) == "" {
		return nil, arm.BadRequest("MissingApiVersionParameter",
			"The api-version query parameter (?api-version=) is required for all requests.")
	}
	if !wellFormedVersion(v) {
		return nil, invalidVersion(v, "", nil)
	}
	audiences := []string{"https://management.core.windows.net/", "https://management.azure.com/"}
	const graph = "https://graph.windows.net/"
	if arm.CompareAPIVersions(v, metadataListVersion) < 0 {
		return map[string]any{
			"galleryEndpoint": "", "graphEndpoint": graph, "portalEndpoint": "", "microsoftGraphResourceId": opts.MicrosoftGraph,
			"authentication": map[string]any{"loginEndpoint": opts.Authority + "adfs", "audiences": audiences},
		}, nil
	}
	cloud := map[string]any{
		"name":            opts.Name,
		"resourceManager": opts.ResourceManager,
		"portal":          "",
		"gallery":         "",
		"graph":           graph,
		"graphAudience":   graph,
		"authentication": map[string]any{"loginEndpoint": opts.Authority, "audiences": audiences,
			"tenant": opts.TenantID, "identityProvider": "AAD"},
		"microsoftGraphResourceId": opts.MicrosoftGraph,
		"suffixes":                 map[string]any{"keyVaultDns": opts.KeyVaultDNSSuffix},
	}
	if arm.CompareAPIVersions(v, metadataCloudVersion) < 0 {
		return []any{cloud}, nil
	}
	return cloud, nil
}
