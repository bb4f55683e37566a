package kql

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

var updateKnown = flag.Bool("update-known", false, "rewrite testdata/known_failures.txt from the current results")

const knownPath = "testdata/known_failures.txt"

// caseKey names a case; ids that repeat in the data get #2, #3, ...
func caseKeys(cases []confCase) []string {
	seen := map[string]int{}
	keys := make([]string, len(cases))
	for i, c := range cases {
		seen[c.ID]++
		keys[i] = c.ID
		if n := seen[c.ID]; n > 1 {
			keys[i] = fmt.Sprintf("%s#%d", c.ID, n)
		}
	}
	return keys
}

// checkCase runs one case and returns "" when the result matches, else why
// not.
func checkCase(c confCase) (why string) {
	defer func() {
		if r := recover(); r != nil {
			why = fmt.Sprintf("panic: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fixed := time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC)
	res, err := Run(ctx, c.KQL, Options{Now: func() time.Time { return fixed }})
	if c.Expect.Error {
		if err == nil {
			return "expected an error, got a result"
		}
		return ""
	}
	if err != nil {
		return "error: " + err.Error()
	}
	cols := make([]string, len(res.Columns))
	for i, col := range res.Columns {
		cols[i] = col.Name + ":" + col.Type.ConformanceName()
	}
	if strings.Join(cols, ",") != strings.Join(c.Expect.Columns, ",") {
		return fmt.Sprintf("columns %v, want %v", cols, c.Expect.Columns)
	}
	if len(res.Rows) != c.Expect.RowCount {
		return fmt.Sprintf("%d rows, want %d", len(res.Rows), c.Expect.RowCount)
	}
	got := make([]string, len(res.Rows))
	for i, r := range res.Rows {
		cells := make([]string, len(r))
		for j, v := range r {
			cells[j] = v.Text()
		}
		got[i] = "(" + strings.Join(cells, ", ") + ")"
	}
	want := c.Expect.SampleRows
	if len(want) > len(got) {
		return fmt.Sprintf("%d sample rows for %d rows", len(want), len(got))
	}
	if ordered(c.KQL) {
		for i, w := range want {
			if got[i] != w {
				return fmt.Sprintf("row %d: %q, want %q", i, got[i], w)
			}
		}
		return ""
	}
	// without an explicit order Kusto's row order is not defined: compare
	// the sample rows as a multiset against all rows
	pool := map[string]int{}
	for _, g := range got {
		pool[g]++
	}
	for _, w := range want {
		if pool[w] == 0 {
			return fmt.Sprintf("row %q missing (got %q)", w, got)
		}
		pool[w]--
	}
	return ""
}

// ordered reports whether a query fixes its row order.
func ordered(q string) bool {
	for _, w := range []string{"sort by", "order by", "| top ", "serialize", "row_number", "make-series", "mv-expand", "scan "} {
		if strings.Contains(q, w) {
			return true
		}
	}
	return false
}

func readKnown(t *testing.T) map[string]string {
	known := map[string]string{}
	f, err := os.Open(knownPath)
	if os.IsNotExist(err) {
		return known
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		known[id] = strings.TrimSpace(reason)
	}
	return known
}

// TestConformance runs the KQL conformance cases (results captured from the
// real Kusto engine) and reports the pass rate per family. A case listed in
// testdata/known_failures.txt must fail, and every other case must pass, so
// the list only shrinks.
func TestConformance(t *testing.T) {
	cases := loadCases(t)
	keys := caseKeys(cases)
	known := readKnown(t)
	type tally struct{ pass, total int }
	fam := map[string]*tally{}
	var newKnown []string
	pass := 0
	for i, c := range cases {
		key := keys[i]
		why := checkCase(c)
		if fam[c.Family] == nil {
			fam[c.Family] = &tally{}
		}
		fam[c.Family].total++
		if why == "" {
			fam[c.Family].pass++
			pass++
			if _, listed := known[key]; listed && !*updateKnown {
				t.Errorf("%s passes but is listed in %s; remove it", key, knownPath)
			}
			continue
		}
		why = strings.ReplaceAll(why, "\n", `\n`)
		if len(why) > 200 {
			why = why[:200] + "..."
		}
		newKnown = append(newKnown, key+"  "+why)
		if _, listed := known[key]; !listed && !*updateKnown {
			t.Errorf("%s (%s) fails: %s\n  query: %s", key, c.Family, why, c.KQL)
		}
	}
	names := make([]string, 0, len(fam))
	for n := range fam {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := fam[n]
		t.Logf("%-28s %4d/%4d  %5.1f%%", n, f.pass, f.total, 100*float64(f.pass)/float64(f.total))
	}
	t.Logf("%-28s %4d/%4d  %5.1f%%", "overall", pass, len(cases), 100*float64(pass)/float64(len(cases)))
	if *updateKnown {
		body := "# KQL conformance cases that do not pass yet: id, two spaces, reason.\n# -update-known rewrites this file with the raw mismatch; edit the reasons after.\n" + strings.Join(newKnown, "\n") + "\n"
		if err := os.WriteFile(knownPath, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
