package policy

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const sharedDir = "../../../shared"

// requireShared skips a test when ../shared (CI's read-only material) is
// absent, as it is in a user's fresh clone.
func requireShared(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(sharedDir, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("skipping: %s not present (../shared is only beside CI checkouts); scripts/fetch-conformance.sh assembles it (see docs/contributing.md)", p)
	}
	return p
}

// loadKnownFailures reads testdata/known_failures.txt: "file:note  reason".
func loadKnownFailures(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("testdata/known_failures.txt")
	if os.IsNotExist(err) {
		return map[string]string{}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	known := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, reason, _ := strings.Cut(line, " ")
		if strings.TrimSpace(reason) == "" {
			t.Errorf("known failure %q has no reason", key)
		}
		known[key] = strings.TrimSpace(reason)
	}
	return known
}

func TestConformanceCases(t *testing.T) {
	dir := requireShared(t, "conformance/azure-policy/cases")
	files, err := CaseFiles([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	known := loadKnownFailures(t)
	runner := &CaseRunner{}
	total, passed := 0, 0
	seen := map[string]bool{}
	for _, path := range files {
		cf, err := LoadCaseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		filePassed := 0
		for _, res := range runner.RunFile(context.Background(), cf) {
			key := res.File + ":" + res.Note
			seen[key] = true
			total++
			_, listed := known[key]
			switch {
			case res.Pass && listed:
				t.Errorf("%s passes but is listed in testdata/known_failures.txt; remove it", key)
			case !res.Pass && !listed:
				t.Errorf("%s: want %s, got %s", key, res.Want, res.Got)
			}
			if res.Pass {
				passed++
				filePassed++
			}
		}
		t.Logf("%-36s %3d/%3d", filepath.Base(path), filePassed, len(cf.Cases))
	}
	var stale []string
	for k := range known {
		if !seen[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	for _, k := range stale {
		t.Errorf("known failure %s names no case", k)
	}
	if total > 0 {
		t.Logf("overall: %d/%d passed (%.1f%%)", passed, total, 100*float64(passed)/float64(total))
	}
}

// TestBuiltinCases runs testdata/builtins.yaml: built-in definitions of the
// corpus against hand-written resources, with the corpus alias table.
func TestBuiltinCases(t *testing.T) {
	requireShared(t, "corpus/azure-policy")
	aliases := loadCorpusAliases(t)
	cf, err := LoadCaseFile("testdata/builtins.yaml")
	if err != nil {
		t.Fatal(err)
	}
	runner := &CaseRunner{Aliases: aliases}
	for _, res := range runner.RunFile(context.Background(), cf) {
		if !res.Pass {
			t.Errorf("%s: want %s, got %s", res.Note, res.Want, res.Got)
		}
	}
}
