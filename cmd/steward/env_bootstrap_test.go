package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/identity"
)

// TestEnvReadsTheSealedCredentialOnceBootstrapJSONIsGone removes
// bootstrap.json after the first start, as docs/serve.md suggests, and
// checks that steward env still exports the administrator's secret, read
// from the sealed store with the same root key.
func TestEnvReadsTheSealedCredentialOnceBootstrapJSONIsGone(t *testing.T) {
	dir, s := serveCloud(t)
	if err := os.Remove(filepath.Join(dir, identity.BootstrapFile)); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "env", "--data", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"export AZURE_CLIENT_ID='" + s.Bootstrap.ClientID + "'",
		"export AZURE_CLIENT_SECRET='" + s.Bootstrap.ClientSecret + "'",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Another root key opens nothing.
	t.Setenv("STEWARD_ROOT_KEY_FILE", filepath.Join(t.TempDir(), "other.key"))
	if out, err := runCLI(t, "env", "--data", dir); err == nil || strings.Contains(out, s.Bootstrap.ClientSecret) {
		t.Fatalf("env with another root key: %v\n%s", err, out)
	}
}
