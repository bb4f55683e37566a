package arm

//go:generate go run gen_specversions.go

// Spec folders of azure-rest-api-specs whose versions Steward accepts
// (keys of PublishedAPIVersions).
const (
	SpecKeyVaultData = "keyvault/data-plane/Microsoft.KeyVault"
	SpecLogsIngest   = "monitor/data-plane/ingestion"
)

// PublishedAPIVersions returns the api-versions published for a REST spec
// folder (such as SpecKeyVaultData), previews included, as listed in
// apispecs.txt and the spec corpus.
func PublishedAPIVersions(spec string) []string {
	return append([]string(nil), specVersions[spec]...)
}

// IsPublishedAPIVersion reports whether v is a published api-version of
// spec.
func IsPublishedAPIVersion(spec, v string) bool {
	for _, p := range specVersions[spec] {
		if p == v {
			return true
		}
	}
	return false
}
