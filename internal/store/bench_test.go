package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// benchBackends opens a fresh store per backend; Postgres is skipped when
// the server is not reachable.
var benchBackends = []struct {
	name string
	open func(b *testing.B) store.Store
}{
	{"SQLite", func(b *testing.B) store.Store { return storetest.SQLite(b) }},
	{"Postgres", func(b *testing.B) store.Store { return storetest.Postgres(b) }},
}

var benchValue = []byte(fmt.Sprintf(`{"id":"/subscriptions/s/resourceGroups/rg","location":"westeurope","tags":{"env":"%0200d"}}`, 0))

func seedBench(b *testing.B, s store.Store, n int) {
	b.Helper()
	ctx := context.Background()
	for lo := 0; lo < n; lo += 500 {
		err := s.Update(ctx, func(tx store.Tx) error {
			for i := lo; i < min(lo+500, n); i++ {
				if _, err := tx.Put(ctx, "bench", fmt.Sprintf("k%08d", i), benchValue, store.Cond{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func perSecond(b *testing.B, n int, unit string) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), unit)
}

// runOps calls op b.N times, from one goroutine or, when parallel, from
// 4 x GOMAXPROCS goroutines, and reports the rate of ops as unit.
func runOps(b *testing.B, parallel bool, unit string, op func(i int64) error) {
	var n atomic.Int64
	if !parallel {
		for b.Loop() {
			if err := op(n.Add(1)); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op(n.Add(1)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	perSecond(b, int(n.Load()), unit)
}

// putOne writes record i in a transaction of its own.
func putOne(s store.Store) func(i int64) error {
	ctx := context.Background()
	return func(i int64) error {
		return s.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Put(ctx, "bench", fmt.Sprintf("k%08d", i), benchValue, store.Cond{})
			return err
		})
	}
}

// getOne reads one of the 1,000 seeded records in a read-only transaction.
func getOne(s store.Store) func(i int64) error {
	ctx := context.Background()
	return func(i int64) error {
		return s.View(ctx, func(tx store.Tx) error {
			_, err := tx.Get(ctx, "bench", fmt.Sprintf("k%08d", i%1000))
			return err
		})
	}
}

// BenchmarkPut is one record per committed (durable) transaction, from
// one goroutine and from eight.
func BenchmarkPut(b *testing.B) {
	for _, be := range benchBackends {
		for _, parallel := range []bool{false, true} {
			b.Run(benchName(be.name, parallel), func(b *testing.B) {
				runOps(b, parallel, "writes/s", putOne(be.open(b)))
			})
		}
	}
}

// BenchmarkPutBatch is 100 records per transaction.
func BenchmarkPutBatch(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			ctx := context.Background()
			i := 0
			for b.Loop() {
				err := s.Update(ctx, func(tx store.Tx) error {
					for range 100 {
						if _, err := tx.Put(ctx, "bench", fmt.Sprintf("k%08d", i), benchValue, store.Cond{}); err != nil {
							return err
						}
						i++
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			perSecond(b, i, "records/s")
		})
	}
}

// BenchmarkGet is one point read per read-only transaction, from one
// goroutine and from eight.
func BenchmarkGet(b *testing.B) {
	for _, be := range benchBackends {
		for _, parallel := range []bool{false, true} {
			b.Run(benchName(be.name, parallel), func(b *testing.B) {
				s := be.open(b)
				seedBench(b, s, 1000)
				runOps(b, parallel, "reads/s", getOne(s))
			})
		}
	}
}

func benchName(backend string, parallel bool) string {
	if parallel {
		return backend + "/8goroutines"
	}
	return backend + "/1goroutine"
}

// BenchmarkScan reads 10,000 records in pages of 1,000, all in one View.
func BenchmarkScan(b *testing.B) {
	const records = 10000
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			seedBench(b, s, records)
			ctx := context.Background()
			total := 0
			for b.Loop() {
				err := s.View(ctx, func(tx store.Tx) error {
					q := store.Query{Limit: store.MaxPageSize}
					for {
						page, err := tx.Scan(ctx, "bench", q)
						if err != nil {
							return err
						}
						total += len(page.Records)
						if page.Next == "" {
							return nil
						}
						q.After = page.Next
					}
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			if total%records != 0 {
				b.Fatalf("scanned %d records, not a multiple of %d", total, records)
			}
			perSecond(b, total, "records/s")
		})
	}
}
