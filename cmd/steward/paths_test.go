package main

import (
	"strings"
	"testing"
)

func TestPolicyLintReadsDirectories(t *testing.T) {
	out, err := runCLI(t, "policy", "lint", "../../examples/scan/policies", "../../examples/policy/storage-secure-transfer.json")
	if _, code := classifyError(err); code != exitOK {
		t.Fatalf("lint of a directory: %v\n%s", err, out)
	}
	for _, f := range []string{"allowed-locations.json", "storage-https.json", "storage-secure-transfer.json"} {
		if !strings.Contains(out, f) {
			t.Errorf("lint output lacks %s:\n%s", f, out)
		}
	}
	for _, tc := range []struct {
		path string
		code int
	}{
		{"../../examples/no-such-dir", exitUsage},
		{t.TempDir(), exitUsage}, // a directory without .json files
	} {
		_, err := runCLI(t, "policy", "lint", tc.path)
		if msg, code := classifyError(err); code != tc.code {
			t.Errorf("lint %s: exit %d, want %d: %s", tc.path, code, tc.code, msg)
		}
	}
}
