package kql

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

// confCase is one line of the KQL conformance data.
type confCase struct {
	ID     string `json:"id"`
	Family string `json:"family"`
	KQL    string `json:"kql"`
	Expect struct {
		Error      bool     `json:"error"`
		Columns    []string `json:"columns"`
		RowCount   int      `json:"row_count"`
		SampleRows []string `json:"sample_rows"`
	} `json:"expect"`
}

const casesPath = "../../../../shared/conformance/kql/cases.jsonl"

// loadCasesIfPresent returns the conformance cases, or nil without them.
func loadCasesIfPresent() []confCase {
	if _, err := os.Stat(casesPath); err != nil {
		return nil
	}
	var out []confCase
	f, err := os.Open(casesPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var c confCase
		if json.Unmarshal(sc.Bytes(), &c) == nil {
			out = append(out, c)
		}
	}
	return out
}

// loadCases reads the conformance data, skipping the test when ../shared is
// absent (a fresh clone without the shared material).
func loadCases(tb testing.TB) []confCase {
	tb.Helper()
	f, err := os.Open(casesPath)
	if os.IsNotExist(err) {
		tb.Skipf("conformance data %s not present (../shared is only available in CI and development); scripts/fetch-conformance.sh assembles it (see docs/contributing.md)", casesPath)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []confCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var c confCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			tb.Fatalf("bad case line: %v", err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
