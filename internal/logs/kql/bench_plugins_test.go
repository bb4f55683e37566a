package kql

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// stormTable builds n storm-like events (fixed seed): 50 states, 10 event
// types, 5 sources, a Damage flag that implies crop damage, and a time.
func stormTable(n int) *MemSource {
	t := &MemTable{Columns: []Column{
		{"StartTime", TypeDateTime}, {"State", TypeString}, {"EventType", TypeString}, {"Source", TypeString},
		{"Damage", TypeLong}, {"DamageCrops", TypeLong},
	}}
	rng := rand.New(rand.NewPCG(1, 2))
	states := make([]Value, 50)
	for i := range states {
		states[i] = String(fmt.Sprintf("STATE%02d", i))
	}
	types := []string{"Hail", "Thunderstorm Wind", "Flash Flood", "Flood", "Tornado", "Winter Storm", "Heavy Rain", "Drought", "High Wind", "Lightning"}
	sources := []string{"Trained Spotter", "Law Enforcement", "Public", "Emergency Manager", "Newspaper"}
	base := timeToTicks(time.Date(2007, 1, 1, 0, 0, 0, 0, time.UTC))
	t.Rows = make([]Row, n)
	for i := range t.Rows {
		// skewed picks: low indexes are more frequent
		st := states[int(float64(len(states))*rng.Float64()*rng.Float64())]
		et := int(float64(len(types)) * rng.Float64() * rng.Float64())
		src := sources[rng.IntN(len(sources))]
		damage := int64(0)
		if rng.Float64() < 0.15+0.05*float64(et) {
			damage = 1
		}
		crops := int64(0)
		if damage == 1 && rng.Float64() < 0.3 {
			crops = int64(1000 * (1 + rng.IntN(5)))
		}
		t.Rows[i] = Row{DateTime(base + int64(i)*ticksPerSecond*60), st, String(types[et]), String(src), Long(damage), Long(crops)}
	}
	return &MemSource{Tables: map[string]*MemTable{"StormEvents": t}}
}

// benchPlugin runs q over 100,000 storm events and reports rows per second.
func benchPlugin(b *testing.B, q string) {
	const n = 100_000
	benchRows(b, stormTable(n), q, n)
}

// benchRows runs q over src, whose table has n rows, and reports CPU time
// per operation and rows per second; q must return rows.
func benchRows(b *testing.B, src Source, q string, n int) {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		res, err := Run(context.Background(), q, Options{Source: src})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Rows) == 0 {
			b.Fatal("no rows")
		}
	}
	reportCPU(b, start)
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkBasket(b *testing.B) {
	benchPlugin(b, "StormEvents | project State, EventType, Source, Damage, DamageCrops | evaluate basket(0.02)")
}

func BenchmarkDiffPatterns(b *testing.B) {
	benchPlugin(b, "StormEvents | project State, EventType, Source, Damage, DamageCrops | evaluate diffpatterns(Damage, '0', '1')")
}

func BenchmarkAutocluster(b *testing.B) {
	benchPlugin(b, "StormEvents | project State, EventType, Source, Damage, DamageCrops | evaluate autocluster()")
}

func BenchmarkScanSteps(b *testing.B) {
	benchPlugin(b, "StormEvents | sort by StartTime asc | scan with_match_id=m declare (start:datetime) with ("+
		"step hail: EventType == 'Hail' => start = StartTime; "+
		"step tornado: EventType == 'Tornado' and StartTime - hail.start <= 1h => start = hail.start; "+
		"step wind: EventType == 'Thunderstorm Wind' and StartTime - tornado.start <= 2h => start = tornado.start;) | count")
}

func BenchmarkTopNestedOthers(b *testing.B) {
	benchPlugin(b, "StormEvents | top-nested 5 of State with others='Other' by count(), top-nested 3 of EventType with others='Other' by sum(DamageCrops)")
}

// BenchmarkPatternBaseline reads and groups the same input as the pattern
// plugin benchmarks: what is left of their time is the mining.
func BenchmarkPatternBaseline(b *testing.B) {
	benchPlugin(b, "StormEvents | project State, EventType, Source, Damage, DamageCrops | summarize count() by State, EventType, Source, Damage, DamageCrops")
}
