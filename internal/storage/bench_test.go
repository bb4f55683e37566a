package storage

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// benchBackends runs a benchmark on SQLite and, when reachable, PostgreSQL.
func benchBackends(b *testing.B, fn func(b *testing.B, st store.Store)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, storetest.Postgres(b)) })
}

// serve sends one SharedKeyLite-signed request through the handler, in
// process, and fails the benchmark on an unexpected status.
func (f *fixture) serve(b *testing.B, h http.Handler, method, path, body string, want int) {
	req := httptest.NewRequest(method, "http://steward.test/tables/acct"+path, strings.NewReader(body))
	req.Header.Set("x-ms-date", f.now.Format(http.TimeFormat))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json;odata=nometadata")
	req.Header.Set("Authorization", "SharedKeyLite acct:"+hmacSign(b, f.acct.Keys[0].Value, sharedKeyStringToSign("acct", req, true)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body.String())
	}
}

// seed writes n entities into table in 100 partitions ("p00".."p99"),
// with an Int32 property N = i, in transactions of 1000.
func seed(b *testing.B, f *fixture, table string, n int) {
	ctx := context.Background()
	if err := f.svc.data.createTable(ctx, "acct", table); err != nil {
		b.Fatal(err)
	}
	for start := 0; start < n; start += 1000 {
		ops := make([]entityOp, 0, 1000)
		for i := start; i < start+1000 && i < n; i++ {
			ops = append(ops, entityOp{Kind: opUpsertReplace, Entity: Entity{PartitionKey: fmt.Sprintf("p%02d", i%100), RowKey: fmt.Sprintf("r%07d", i),
				Props: []Property{{Name: "N", Value: Value{Type: EdmInt32, I: int64(i)}}, {Name: "Name", Value: Value{Type: EdmString, S: "entity"}}}}})
		}
		if _, err := f.svc.data.apply(ctx, "acct", table, ops); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEntityInsert measures inserts through the handler: SharedKey
// check, JSON parsing, one transaction per entity.
func BenchmarkEntityInsert(b *testing.B) {
	benchBackends(b, func(b *testing.B, st store.Store) {
		f := newFixture(b, st)
		h := f.svc.Handler(HandlerOptions{})
		f.serve(b, h, "POST", "/Tables", `{"TableName":"bench"}`, 201)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			f.serve(b, h, "POST", "/bench", fmt.Sprintf(`{"PartitionKey":"p%d","RowKey":"r%d","N":%d,"Name":"entity"}`, i%16, i, i), 201)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
	})
}

// BenchmarkEntityPointRead measures GET of one entity by its keys.
func BenchmarkEntityPointRead(b *testing.B) {
	benchBackends(b, func(b *testing.B, st store.Store) {
		f := newFixture(b, st)
		seed(b, f, "bench", 10000)
		h := f.svc.Handler(HandlerOptions{})
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := (i * 7919) % 10000
			f.serve(b, h, "GET", fmt.Sprintf("/bench(PartitionKey='p%02d',RowKey='r%07d')", k%100, k), "", 200)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
	})
}

// BenchmarkFilteredQuery100k queries a table of 100,000 entities: one
// filter the partition key confines (pushed down to SQL), one that must
// read every row (paged by the scan limit, as the service pages).
func BenchmarkFilteredQuery100k(b *testing.B) {
	benchBackends(b, func(b *testing.B, st store.Store) {
		f := newFixture(b, st)
		seed(b, f, "bench", 100000)
		ctx := context.Background()
		for _, c := range []struct{ name, filter string }{
			{"partition", "PartitionKey eq 'p42' and N ge 50000"},
			{"fullscan", "N ge 99990 and Name eq 'entity'"},
		} {
			x, err := parseFilter(c.filter)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(c.name, func(b *testing.B) {
				rows := 0
				for i := 0; i < b.N; i++ {
					q := entityQuery{Filter: x}
					for {
						res, err := f.svc.data.queryEntities(ctx, "acct", "bench", q)
						if err != nil {
							b.Fatal(err)
						}
						rows += len(res.Entities)
						if !res.More {
							break
						}
						q.AfterPK, q.AfterRK, q.HasAfter = res.NextPK, res.NextRK, true
					}
				}
				b.ReportMetric(float64(rows)/float64(b.N), "matches/op")
			})
		}
	})
}
