package kql

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

// documentedCasesPath holds cases written from the Kusto documentation's
// own examples (each names its page in "source"): unlike the shared
// conformance data they ship with the repository, and every one must pass.
const documentedCasesPath = "testdata/documented_cases.jsonl"

func TestDocumentedCases(t *testing.T) {
	f, err := os.Open(documentedCasesPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	n := 0
	for sc.Scan() {
		var c struct {
			confCase
			Source string `json:"source"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("bad case line %d: %v", n+1, err)
		}
		n++
		if c.Source == "" {
			t.Errorf("%s: no source", c.ID)
		}
		if why := checkCase(c.confCase); why != "" {
			t.Errorf("%s: %s\n  %s", c.ID, why, c.KQL)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no documented cases")
	}
}
