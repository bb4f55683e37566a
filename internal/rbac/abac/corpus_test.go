package abac

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

const corpusRoles = "../../../../shared/corpus/roles/builtin-role-definitions.json"

// corpusConditions returns the conditions of the built-in roles in the
// shared corpus, by role name, or skips when the corpus is absent.
func corpusConditions(tb testing.TB) map[string][]string {
	data, err := os.ReadFile(corpusRoles)
	if os.IsNotExist(err) {
		tb.Skipf("shared corpus not present (%s); skipping built-in role conditions; scripts/fetch-conformance.sh assembles it (see docs/contributing.md)", corpusRoles)
	}
	if err != nil {
		tb.Fatal(err)
	}
	var roles []struct {
		Name        string
		Permissions []struct{ Condition string }
	}
	if err := json.Unmarshal(data, &roles); err != nil {
		tb.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range roles {
		for _, p := range r.Permissions {
			if p.Condition != "" {
				out[r.Name] = append(out[r.Name], p.Condition)
			}
		}
	}
	return out
}

func knownFailures(t *testing.T) map[string]string {
	f, err := os.Open("testdata/corpus_known_failures.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(reason) == "" {
			t.Fatalf("known failure %q has no reason", line)
		}
		out[name] = reason
	}
	return out
}

func TestBuiltInRoleConditionsParse(t *testing.T) {
	conds := corpusConditions(t)
	known := knownFailures(t)
	total, passed := 0, 0
	for name, list := range conds {
		failed := false
		for _, c := range list {
			total++
			if _, err := Parse(c); err != nil {
				failed = true
				if _, ok := known[name]; !ok {
					t.Errorf("%s: %v", name, err)
				}
				continue
			}
			passed++
			roundTrip(t, c)
		}
		if _, ok := known[name]; ok && !failed {
			t.Errorf("%s is listed in corpus_known_failures.txt but parses; remove it", name)
		}
	}
	for name := range known {
		if _, ok := conds[name]; !ok {
			t.Errorf("%s is listed in corpus_known_failures.txt but has no condition in the corpus", name)
		}
	}
	t.Logf("%d of %d built-in role conditions parse", passed, total)
}
