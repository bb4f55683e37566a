package interop

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The survey: the client tests that run with default options through the
// proxy mark the operations they exercise (survey), and with
// STEWARD_SURVEY=FILE, `go test ./internal/interop/` writes a table of
// operation group × client with each outcome and the counts to FILE
// (docs/interop.md carries the last run's). A subtest skipped on a known
// client defect records the defect as the outcome.

// surveyEntry is one operation of one client, with its outcome.
type surveyEntry struct {
	client, group, op string
	outcome           string // "works", "client bug: ...", "FAILS"
}

var (
	surveyMu    sync.Mutex
	surveyed    []surveyEntry
	surveyNotes = map[string]string{} // test name -> why it was skipped
)

// survey marks the calling test as exercising ops ("group: operation") of
// client; each is recorded with the test's outcome when it ends.
func survey(t *testing.T, client string, ops ...string) {
	t.Helper()
	t.Cleanup(func() {
		outcome := "works"
		switch {
		case t.Failed():
			outcome = "FAILS"
		case t.Skipped():
			outcome = "skipped"
			surveyMu.Lock()
			if why, ok := surveyNotes[t.Name()]; ok {
				outcome = "client bug: " + why
			}
			surveyMu.Unlock()
		}
		surveyMu.Lock()
		defer surveyMu.Unlock()
		for _, op := range ops {
			group, name, _ := strings.Cut(op, ": ")
			surveyed = append(surveyed, surveyEntry{client: client, group: group, op: name, outcome: outcome})
		}
	})
}

// surveySkip records why the test is about to skip on a client's defect.
func surveySkip(t *testing.T, why string) {
	surveyMu.Lock()
	defer surveyMu.Unlock()
	surveyNotes[t.Name()] = why
}

// surveyTable renders the entries: one row per operation group, one
// column per client, then the counts.
func surveyTable(entries []surveyEntry) string {
	var clients, groups []string
	cell := map[[2]string][]surveyEntry{}
	for _, e := range entries {
		if !slices.Contains(clients, e.client) {
			clients = append(clients, e.client)
		}
		if !slices.Contains(groups, e.group) {
			groups = append(groups, e.group)
		}
		k := [2]string{e.group, e.client}
		cell[k] = append(cell[k], e)
	}
	slices.Sort(clients)
	var b strings.Builder
	b.WriteString("| operation group | " + strings.Join(clients, " | ") + " |\n|---|" + strings.Repeat("---|", len(clients)) + "\n")
	counts := map[string]int{}
	for _, g := range groups {
		b.WriteString("| " + g + " |")
		for _, c := range clients {
			es := cell[[2]string{g, c}]
			if len(es) == 0 {
				b.WriteString(" – |")
				continue
			}
			var parts []string
			for _, e := range es {
				parts = append(parts, e.op+": "+e.outcome)
				counts[strings.SplitN(e.outcome, ":", 2)[0]]++
			}
			b.WriteString(" " + strings.Join(parts, "; ") + " |")
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n%d operations: %d work, %d stop on the client's own defect, %d skipped for a missing client, %d fail.\n",
		len(entries), counts["works"], counts["client bug"], counts["skipped"], counts["FAILS"])
	return b.String()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if path := os.Getenv("STEWARD_SURVEY"); path != "" && os.Getenv(goChildEnv) == "" {
		surveyMu.Lock()
		table := surveyTable(surveyed)
		surveyMu.Unlock()
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "survey:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// TestSurveyTable checks the rendering of the survey on fixed entries.
func TestSurveyTable(t *testing.T) {
	got := surveyTable([]surveyEntry{
		{"az", "resource groups", "create", "works"},
		{"Python", "resource groups", "create", "works"},
		{"az", "Key Vault", "secret set", "client bug: no module"},
		{"az", "resource groups", "list", "FAILS"},
	})
	for _, want := range []string{
		"| operation group | Python | az |",
		"| resource groups | create: works | create: works; list: FAILS |",
		"| Key Vault | – | secret set: client bug: no module |",
		"4 operations: 2 work, 1 stop on the client's own defect, 0 skipped for a missing client, 1 fail.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}
