package kql

import (
	"context"
	"testing"
)

// benchTables runs q, which returns tables result tables, over 100,000
// storm events and reports CPU time per operation and input rows per
// second.
func benchTables(b *testing.B, q string, tables int) {
	const n = 100_000
	src := stormTable(n)
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		rs, err := RunTables(context.Background(), q, Options{Source: src})
		if err != nil {
			b.Fatal(err)
		}
		if len(rs) != tables {
			b.Fatalf("%d tables, want %d", len(rs), tables)
		}
	}
	reportCPU(b, start)
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkForkBaseline computes the fork legs' results as three
// statements, each reading the table again.
func BenchmarkForkBaseline(b *testing.B) {
	benchTables(b, "StormEvents | where Damage == 1 | summarize count() by State; StormEvents | where Damage == 1 | summarize sum(DamageCrops) by EventType;"+
		" StormEvents | where Damage == 1 | top 10 by DamageCrops", 3)
}

// BenchmarkFork computes them as fork legs over one read of the input.
func BenchmarkFork(b *testing.B) {
	benchTables(b, "StormEvents | where Damage == 1 | fork (summarize count() by State) (summarize sum(DamageCrops) by EventType) (top 10 by DamageCrops)", 3)
}

func BenchmarkFacet(b *testing.B) {
	benchTables(b, "StormEvents | facet by State, EventType, Source with (where Damage == 1 | take 10)", 4)
}

// BenchmarkFunnelSequence follows each state's events (the state stands
// for an id) through Hail then Tornado, a day apart at most, in 30-day
// windows.
func BenchmarkFunnelSequence(b *testing.B) {
	benchTables(b, "StormEvents | evaluate funnel_sequence(State, StartTime, datetime(2007-01-01), datetime(2007-12-31), 1d, 30d, EventType, dynamic(['Hail', 'Tornado']))", 3)
}
