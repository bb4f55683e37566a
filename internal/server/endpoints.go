package server

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/steward-gov/steward/internal/atomicfile"
)

// endpointsFile is where a running Steward records how to reach it.
const endpointsFile = "endpoints.json"

// Endpoints are the addresses a Steward serves on, as written to
// DATA/endpoints.json at every start for `steward env`.
type Endpoints struct {
	// URL is the main port's base URL.
	URL string `json:"url"`
	// Proxy is the forward proxy's URL, empty when the proxy is off.
	Proxy string `json:"proxy,omitempty"`
}

// WriteEndpoints records e in dataDir.
func WriteEndpoints(dataDir string, e Endpoints) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dataDir, endpointsFile), append(b, '\n'), 0o644)
}

// ReadEndpoints reads what the last start of the Steward of dataDir
// recorded (fs.ErrNotExist before a first start).
func ReadEndpoints(dataDir string) (Endpoints, error) {
	var e Endpoints
	b, err := os.ReadFile(filepath.Join(dataDir, endpointsFile))
	if err != nil {
		return e, err
	}
	return e, json.Unmarshal(b, &e)
}
