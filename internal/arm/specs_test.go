package arm

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// splitSpecPath parses a spec path as gen_specversions.go does:
// specification/{service}/{plane}/{namespace}/[{group}/]{stable|preview}/{version}/{file}.json.
func splitSpecPath(path string) (spec, file, version string, ok bool) {
	parts := strings.Split(path, "/")
	n := len(parts)
	if (n != 7 && n != 8) || parts[0] != "specification" || (parts[n-3] != "stable" && parts[n-3] != "preview") || !strings.HasSuffix(parts[n-1], ".json") {
		return "", "", "", false
	}
	spec = strings.Join(parts[1:4], "/")
	return spec, spec + "/" + parts[n-1], parts[n-2], true
}

// TestSpecVersionsCoverCorpus: when the spec corpus is present
// (../shared/corpus/rest-api), every version of a spec folder the table
// knows is in the table, so the checked-in specversions.go is what go
// generate would write. Without the corpus the checked-in table stands.
func TestSpecVersionsCoverCorpus(t *testing.T) {
	corpus := filepath.Join("..", "..", "..", "shared", "corpus", "rest-api")
	if os.Getenv("STEWARD_SPEC_CORPUS") != "" {
		corpus = os.Getenv("STEWARD_SPEC_CORPUS")
	}
	root := filepath.Join(corpus, "specification")
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		t.Skipf("no spec corpus at %s (scripts/fetch-conformance.sh fetches it): the checked-in table stands", root)
	}
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") || strings.Contains(p, "/examples/") {
			return err
		}
		rel, _ := filepath.Rel(corpus, p)
		spec, _, version, ok := splitSpecPath(filepath.ToSlash(rel))
		if !ok || len(specVersions[spec]) == 0 {
			return nil
		}
		n++
		if !IsPublishedAPIVersion(spec, version) {
			t.Errorf("%s is in the corpus but its version is not in specversions.go: run go generate ./internal/arm", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d spec files of the corpus checked", n)
}

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
		spec, file, version, ok := splitSpecPath(line)
		if !ok {
			t.Errorf("apispecs.txt: malformed %q", line)
			continue
		}
		n++
		for _, k := range []string{spec, file} {
			if !IsPublishedAPIVersion(k, version) {
				t.Errorf("%s %s is in apispecs.txt but not in specversions.go: run go generate ./internal/arm", k, version)
			}
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
