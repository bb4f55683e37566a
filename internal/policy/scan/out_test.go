package scan

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// scanTo scans the example estate with the example policies into sink.
func scanTo(t *testing.T, estate string, sink Sink) *Report {
	t.Helper()
	plan, err := LoadPlan(examplePolicies(t))
	if err != nil {
		t.Fatal(err)
	}
	_, lazy := sink.(*TableSink)
	rep, err := Run(context.Background(), FileEstate(estate), plan, Config{Now: exampleNow, Workers: 2, LazyExplain: lazy}, sink)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestSARIFRequiredFields checks the log against the properties the
// SARIF 2.1.0 schema requires (sarifLog: version, runs; run: tool;
// tool: driver; toolComponent: name; result: message with text) and the
// ones CI consumers need (ruleId, locations, $schema).
func TestSARIFRequiredFields(t *testing.T) {
	var buf bytes.Buffer
	estate := filepath.Join(examples, "estate.json")
	rep := scanTo(t, estate, &SARIFSink{Out: &buf, EstateURI: "estate.json", ToolVersion: "test"})
	var log map[string]any
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatalf("SARIF is not JSON: %v\n%s", err, buf.String())
	}
	if log["version"] != "2.1.0" || !strings.HasSuffix(log["$schema"].(string), "sarif-schema-2.1.0.json") {
		t.Errorf("version %v, $schema %v", log["version"], log["$schema"])
	}
	runs, ok := log["runs"].([]any)
	if !ok || len(runs) != 1 {
		t.Fatalf("runs %v", log["runs"])
	}
	run := runs[0].(map[string]any)
	driver, _ := run["tool"].(map[string]any)["driver"].(map[string]any)
	if driver == nil || driver["name"] != "steward" {
		t.Fatalf("tool.driver %v", run["tool"])
	}
	rules, _ := driver["rules"].([]any)
	results, _ := run["results"].([]any)
	if int64(len(results)) != rep.NonCompliant || len(results) == 0 {
		t.Fatalf("%d results, want one per non-compliant result (%d)", len(results), rep.NonCompliant)
	}
	for i, r := range results {
		res := r.(map[string]any)
		msg, _ := res["message"].(map[string]any)
		if text, _ := msg["text"].(string); text == "" {
			t.Errorf("result %d: no message.text", i)
		}
		id, _ := res["ruleId"].(string)
		idx, _ := res["ruleIndex"].(float64)
		if id == "" || int(idx) >= len(rules) || rules[int(idx)].(map[string]any)["id"] != id {
			t.Errorf("result %d: ruleId %q, ruleIndex %v do not name a rule", i, id, res["ruleIndex"])
		}
		if lvl := res["level"]; lvl != "warning" && lvl != "error" {
			t.Errorf("result %d: level %v", i, lvl)
		}
		locs, _ := res["locations"].([]any)
		if len(locs) == 0 {
			t.Fatalf("result %d: no locations", i)
		}
		loc := locs[0].(map[string]any)
		logical := loc["logicalLocations"].([]any)[0].(map[string]any)
		phys := loc["physicalLocation"].(map[string]any)
		line := phys["region"].(map[string]any)["startLine"].(float64)
		if !strings.HasPrefix(logical["fullyQualifiedName"].(string), "/subscriptions/") || line < 1 {
			t.Errorf("result %d: location %v", i, loc)
		}
	}
}

func TestCSVOutput(t *testing.T) {
	var buf bytes.Buffer
	rep := scanTo(t, filepath.Join(examples, "estate.json"), &CSVSink{Out: &buf})
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, r := range rows[1:] {
		if len(r) != len(csvHeader) {
			t.Fatalf("row %v has %d cells, want %d", r, len(r), len(csvHeader))
		}
		kinds[r[0]]++
	}
	if rows[0][0] != "record" || int64(kinds["finding"]) != rep.NonCompliant || kinds["overall"] != 1 || kinds["assignment"] != len(rep.Assignments) {
		t.Errorf("header %v, row kinds %v, report %d non-compliant, %d assignments", rows[0], kinds, rep.NonCompliant, len(rep.Assignments))
	}
	last := rows[len(rows)-1]
	if last[0] != "overall" || last[len(last)-1] != "50.0" {
		t.Errorf("overall row %v", last)
	}
}

func TestTableOutput(t *testing.T) {
	var out, errs bytes.Buffer
	scanTo(t, filepath.Join(examples, "estate.json"), &TableSink{Out: &out, Errs: &errs, Limit: 2})
	s := out.String()
	for _, want := range []string{"9 resources scanned; overall NonCompliant: 3 compliant, 3 non-compliant",
		"ASSIGNMENT", "POLICY", "NEXT WRITE", "... 6 more non-compliant results not listed",
		"tags['owner'] exists false (value: missing)"} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
}

func TestMalformedRecordsReachEverySink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "estate.jsonl")
	writeFile(t, path, res("a")+"\nnot json\n")
	var table, errs, js, cs, sa bytes.Buffer
	for _, s := range []Sink{&TableSink{Out: &table, Errs: &errs}, &JSONSink{Out: &js}, &CSVSink{Out: &cs}, &SARIFSink{Out: &sa}} {
		scanTo(t, path, s)
	}
	for name, got := range map[string]string{"table": errs.String(), "json": js.String(), "csv": cs.String(), "sarif": sa.String()} {
		if !strings.Contains(got, "line 2") {
			t.Errorf("%s output does not name line 2:\n%s", name, got)
		}
	}
}

func TestDiffOutputs(t *testing.T) {
	in := Policies{DefinitionPaths: []string{filepath.Join(examples, "policies")}}
	plan, err := LoadDiffPlan(filepath.Join(examples, "initiative", "v1.json"), filepath.Join(examples, "initiative", "v2.json"), in)
	if err != nil {
		t.Fatal(err)
	}
	var table, errs, cs, sa bytes.Buffer
	sinks := map[string]Sink{"table": &TableSink{Out: &table, Errs: &errs}, "csv": &CSVSink{Out: &cs}, "sarif": &SARIFSink{Out: &sa}}
	for name, sink := range sinks {
		if _, err := RunDiff(context.Background(), FileEstate(filepath.Join(examples, "estate.json")), plan, Config{Now: exampleNow}, sink); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for _, want := range []string{"2 resources change compliance", "NotApplicable -> NonCompliant: 1", "sqlAuditing: NotApplicable -> NonCompliant"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	rows, err := csv.NewReader(&cs).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	changes, sides := 0, map[string]bool{}
	for _, r := range rows[1:] {
		switch r[0] {
		case "change":
			changes++
		case "assignment":
			sides[r[4]] = true
		}
	}
	if changes != 2 || !sides["old/baseline"] || !sides["new/baseline"] {
		t.Errorf("csv: %d change rows, assignment rows %v", changes, sides)
	}
	var log map[string]any
	if err := json.Unmarshal(sa.Bytes(), &log); err != nil {
		t.Fatalf("sarif of a diff is not JSON: %v", err)
	}
}
