package policy

import (
	"context"
	"path/filepath"
	"testing"
)

// TestFidelityCases runs testdata/cases: Steward's own cases, in the
// conformance suite's format, for behaviour Azure documents that the
// shared suite does not cover (expression-built field paths, alias paths
// through hyphens and dots, nested counts, requestContext() outside a
// request, incomplete effect details).
func TestFidelityCases(t *testing.T) {
	files, err := CaseFiles([]string{filepath.Join("testdata", "cases")})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no case files under testdata/cases")
	}
	runner := &CaseRunner{}
	for _, path := range files {
		cf, err := LoadCaseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range runner.RunFile(context.Background(), cf) {
			if !res.Pass {
				t.Errorf("%s:%s: want %s, got %s\n%s", res.File, res.Note, res.Want, res.Got, res.DetailsDiff)
			}
		}
	}
}
