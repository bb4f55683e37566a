package scan

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestScanStatsAccountsForThePhases checks --stats' figures: the records
// of the evaluation pass are counted, every phase took some time, and the
// reader's own time (reading and parsing, which run one after the other)
// fits in the scan's wall time. The same scan without Stats reports the
// same results.
func TestScanStatsAccountsForThePhases(t *testing.T) {
	estate := filepath.Join(examples, "estate.json")
	plan, err := LoadPlan(examplePolicies(t))
	if err != nil {
		t.Fatal(err)
	}
	var st Stats
	var with, without bytes.Buffer
	rep, err := Run(context.Background(), FileEstate(estate), plan, Config{Now: exampleNow, Workers: 2, Stats: &st}, &JSONSink{Out: &with})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), FileEstate(estate), plan, Config{Now: exampleNow, Workers: 2}, &JSONSink{Out: &without}); err != nil {
		t.Fatal(err)
	}
	if with.String() != without.String() {
		t.Error("the output differs with Stats")
	}
	if st.Records != rep.Resources+rep.Malformed || st.Records == 0 {
		t.Errorf("stats count %d records, the report %d resources and %d malformed", st.Records, rep.Resources, rep.Malformed)
	}
	if st.Read <= 0 || st.Parse <= 0 || st.Evaluate <= 0 || st.Report <= 0 || st.Workers != 2 {
		t.Errorf("a phase without time: %+v", st)
	}
	if st.Read+st.Parse > st.Total {
		t.Errorf("read %v + parse %v exceed the wall time %v", st.Read, st.Parse, st.Total)
	}
	if s := st.String(); !strings.Contains(s, "read ") || !strings.Contains(s, "evaluate ") {
		t.Errorf("summary %q", s)
	}
}

// TestLazyRecordsResolveToTheEagerOnes checks that records handed on
// undecoded (the scan's second pass, decoded by the workers) resolve to
// exactly the records the decoding reader gives, in every input format,
// Resource Graph pages and malformed records included.
func TestLazyRecordsResolveToTheEagerOnes(t *testing.T) {
	inputs := map[string]string{
		"json": "[{\"id\":\"/subscriptions/s/resourceGroups/g\",\"type\":\"Microsoft.Resources/resourceGroups\",\"name\":\"g\"},\n5,\n" +
			"{\"data\":[{\"id\":\"/subscriptions/s\",\"type\":\"Microsoft.Resources/subscriptions\",\"name\":\"s\"}]}]\n",
		"jsonl": "{\"id\":\"/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a\",\"type\":\"Microsoft.Storage/storageAccounts\",\"name\":\"a\"}\n" +
			"{not json\n" +
			"{\"data\":[{\"id\":\"/subscriptions/s/resourceGroups/g\",\"type\":\"Microsoft.Resources/resourceGroups\",\"name\":\"g\"},7]}\n",
	}
	for _, name := range []string{"estate.json", "estate-graph.json", "estate.jsonl"} {
		data, err := os.ReadFile(filepath.Join(examples, name))
		if err != nil {
			t.Fatal(err)
		}
		inputs[name] = string(data)
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			var eager, lazy []Record
			ctx := context.Background()
			if _, err := read(ctx, strings.NewReader(in), FormatAuto, nil, func(r Record) error { eager = append(eager, r); return nil }); err != nil {
				t.Fatal(err)
			}
			_, _ = readLazy(ctx, strings.NewReader(in), FormatAuto, func(r Record) error {
				lazy = append(lazy, r.resolve(&decoder{})...)
				return nil
			})
			if len(eager) != len(lazy) {
				t.Fatalf("%d records decoded, %d resolved", len(eager), len(lazy))
			}
			for i := range eager {
				e, l := eager[i], lazy[i]
				if e.Where != l.Where || e.Line != l.Line || fmt.Sprint(e.Err) != fmt.Sprint(l.Err) || !reflect.DeepEqual(e.Doc, l.Doc) {
					t.Errorf("record %d: decoded %+v, resolved %+v", i, e, l)
				}
			}
		})
	}
}
