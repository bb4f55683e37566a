package kql

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// activityTable builds n user activity records (fixed seed): 5,000 users,
// the lower ids more active, over 90 days from 2024-01-01, in 3 regions.
func activityTable(n int) *MemSource {
	t := &MemTable{Columns: []Column{{"Timestamp", TypeDateTime}, {"UserId", TypeString}, {"Region", TypeString}, {"Latency", TypeLong}}}
	rng := rand.New(rand.NewPCG(3, 4))
	base := timeToTicks(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	span := int64(90 * 24 * time.Hour / 100)
	regions := []Value{String("east"), String("west"), String("north")}
	t.Rows = make([]Row, n)
	for i := range t.Rows {
		user := int(5000 * rng.Float64() * rng.Float64())
		t.Rows[i] = Row{DateTime(base + rng.Int64N(span)), String(fmt.Sprintf("u%04d", user)), regions[user%3], Long(int64(rng.IntN(1000)))}
	}
	return &MemSource{Tables: map[string]*MemTable{"Activity": t}}
}

const usageRange = "datetime(2024-01-01), datetime(2024-03-31)"

func benchUsage(b *testing.B, q string) {
	const n = 100_000
	benchRows(b, activityTable(n), q, n)
}

func BenchmarkSlidingWindowCounts(b *testing.B) {
	benchUsage(b, "Activity | evaluate sliding_window_counts(UserId, Timestamp, "+usageRange+", 7d, 1d, Region)")
}

func BenchmarkActiveUsersCount(b *testing.B) {
	benchUsage(b, "Activity | evaluate active_users_count(UserId, Timestamp, "+usageRange+", 7d, 1d, 3, 1d, Region)")
}

func BenchmarkRollingPercentile(b *testing.B) {
	benchUsage(b, "Activity | evaluate rolling_percentile(Latency, 95, Timestamp, 1d, 7, Region)")
}

func BenchmarkActivityCountsMetrics(b *testing.B) {
	benchUsage(b, "Activity | evaluate activity_counts_metrics(UserId, Timestamp, "+usageRange+", 1d, Region)")
}

func BenchmarkActivityMetrics(b *testing.B) {
	benchUsage(b, "Activity | evaluate activity_metrics(UserId, Timestamp, "+usageRange+", 7d, Region)")
}

func BenchmarkActivityEngagement(b *testing.B) {
	benchUsage(b, "Activity | evaluate activity_engagement(UserId, Timestamp, "+usageRange+", 1d, 30d, Region)")
}

func BenchmarkPartitionWithSource(b *testing.B) {
	benchUsage(b, "datatable(Region:string)['east', 'west', 'north'] | partition by Region { Activity | where Region == toscalar(Region) | summarize count() by UserId | top 10 by count_ }")
}

func BenchmarkNewActivityMetrics(b *testing.B) {
	benchUsage(b, "Activity | evaluate new_activity_metrics(UserId, Timestamp, "+usageRange+", 7d, Region)")
}

func BenchmarkFunnelSequenceCompletion(b *testing.B) {
	benchUsage(b, "Activity | extend State = case(Latency < 300, 'browse', Latency < 600, 'cart', 'buy')"+
		" | evaluate funnel_sequence_completion(UserId, Timestamp, "+usageRange+", 30d, State, dynamic(['browse', 'cart', 'buy']), dynamic([1h, 1d, 7d]))")
}

// BenchmarkUsageBaseline reads the same table and counts per day and
// region: the plugins' time above it is their own.
func BenchmarkUsageBaseline(b *testing.B) {
	benchUsage(b, "Activity | summarize count(), dcount(UserId) by bin(Timestamp, 1d), Region")
}
