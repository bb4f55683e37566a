package kql

import (
	"context"
	"fmt"
	"testing"
	"time"
)

const benchQuery = `PolicyComplianceStates_CL | summarize arg_max(TimeGenerated, *) by Policy_assignment_id | where Is_compliant == false`

// complianceTable builds n rows spread over 10,000 assignments.
func complianceTable(n int) *MemSource {
	t := &MemTable{Columns: []Column{
		{"TimeGenerated", TypeDateTime}, {"Policy_assignment_id", TypeString}, {"Resource_id", TypeString}, {"Is_compliant", TypeBool},
	}}
	base := timeToTicks(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	ids := make([]Value, 10000)
	for i := range ids {
		ids[i] = String(fmt.Sprintf("/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/a%d", i))
	}
	t.Rows = make([]Row, n)
	for i := 0; i < n; i++ {
		t.Rows[i] = Row{DateTime(base + int64(i)*ticksPerSecond), ids[i%len(ids)], String("r"), Bool(i%3 != 0)}
	}
	return &MemSource{Tables: map[string]*MemTable{"PolicyComplianceStates_CL": t}}
}

func BenchmarkParse(b *testing.B) {
	q := `let cutoff = ago(90d); PolicyComplianceStates_CL | where TimeGenerated > cutoff and Policy_assignment_id has "policyAssignments" | extend age = datetime_diff('day', now(), TimeGenerated) | summarize arg_max(TimeGenerated, *), n = count() by Policy_assignment_id, bin(TimeGenerated, 1d) | where Is_compliant == false | order by n desc | take 100`
	b.ReportAllocs()
	b.SetBytes(int64(len(q)))
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(q); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

// BenchmarkSummarizeArgMax runs the alert query of seed 000 over 1,000,000
// in-memory rows and reports rows per second.
func BenchmarkSummarizeArgMax(b *testing.B) {
	const n = 1_000_000
	benchRows(b, complianceTable(n), benchQuery, n)
}

// BenchmarkStreamingFilter runs a row-at-a-time pipeline (string functions,
// arithmetic and a count) over 1,000,000 rows, none of it pushed down.
func BenchmarkStreamingFilter(b *testing.B) {
	const n = 1_000_000
	src := complianceTable(n)
	q := `PolicyComplianceStates_CL | where tolower(Policy_assignment_id) has "a42" or strlen(Resource_id) > 5 | extend day = bin(TimeGenerated, 1d) | count`
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := Run(context.Background(), q, Options{Source: src}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
