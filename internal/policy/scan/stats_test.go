package scan

import (
	"bytes"
	"context"
	"path/filepath"
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
