package armexpr

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// corpusExpressions returns the distinct expression strings found in the
// JSON files of ../shared/corpus/azure-policy, sorted, or nil when the
// corpus is absent.
func corpusExpressions(tb testing.TB) []string {
	tb.Helper()
	corpusOnce.Do(func() { corpusCache = loadCorpusExpressions(tb) })
	return corpusCache
}

var (
	corpusOnce  sync.Once
	corpusCache []string
)

func loadCorpusExpressions(tb testing.TB) []string {
	shared := sharedDir(tb)
	if shared == "" {
		return nil
	}
	root := filepath.Join(shared, "corpus", "azure-policy")
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var doc any
		if json.Unmarshal(raw, &doc) != nil {
			return nil // not every file need be JSON we understand
		}
		collectExpressions(doc, seen)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func collectExpressions(v any, seen map[string]bool) {
	switch v := v.(type) {
	case string:
		if IsExpression(v) {
			seen[v] = true
		}
	case []any:
		for _, e := range v {
			collectExpressions(e, seen)
		}
	case map[string]any:
		for k, e := range v {
			if IsExpression(k) {
				seen[k] = true
			}
			collectExpressions(e, seen)
		}
	}
}

// TestCorpusExpressionsParse parses every expression of the built-in
// policy corpus and checks that String round-trips each one.
func TestCorpusExpressionsParse(t *testing.T) {
	exprs := corpusExpressions(t)
	if exprs == nil {
		t.Skip("../shared is absent: the policy corpus is not available; scripts/fetch-conformance.sh assembles it (see docs/contributing.md)")
	}
	failed := 0
	for _, s := range exprs {
		if s == "[]" {
			// An element of an array parameter's defaultValue in asb_v2.json;
			// it is not an expression ARM evaluates, and Parse rightly
			// rejects an empty expression.
			continue
		}
		n, err := Parse(s)
		if err != nil {
			failed++
			if failed <= 20 {
				t.Errorf("Parse(%q): %v", s, err)
			}
			continue
		}
		again, err := Parse(n.String())
		if err != nil || again.String() != n.String() {
			t.Errorf("round trip of %q: %q then %v", s, n.String(), err)
		}
	}
	t.Logf("corpus: %d distinct expressions, %d failed to parse", len(exprs), failed)
}
