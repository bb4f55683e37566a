package arm

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestSpecVersionsCoverAPISpecs: every spec path listed in apispecs.txt
// has its version in the generated table (run `go generate
// ./internal/arm` after editing the list).
func TestSpecVersionsCoverAPISpecs(t *testing.T) {
	f, err := os.Open("apispecs.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "/")
		if len(parts) != 7 {
			t.Errorf("apispecs.txt: malformed %q", line)
			continue
		}
		n++
		spec, version := strings.Join(parts[1:4], "/"), parts[5]
		if !IsPublishedAPIVersion(spec, version) {
			t.Errorf("%s %s is in apispecs.txt but not in specversions.go: run go generate ./internal/arm", spec, version)
		}
	}
	if n == 0 {
		t.Fatal("apispecs.txt lists no spec")
	}
	for _, c := range []struct {
		spec, version string
		want          bool
	}{
		{SpecKeyVaultData, "7.4-preview.1", true},
		{SpecKeyVaultData, "7.6", true},
		{SpecKeyVaultData, "7.9", false},
		{SpecLogsIngest, "2021-11-01-preview", true},
		{SpecLogsIngest, "2023-01-01", true},
		{SpecLogsIngest, "2022-01-01", false},
		{"no/such/spec", "2023-01-01", false},
	} {
		if got := IsPublishedAPIVersion(c.spec, c.version); got != c.want {
			t.Errorf("IsPublishedAPIVersion(%s, %s) = %v", c.spec, c.version, got)
		}
	}
}
