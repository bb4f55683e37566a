package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkTablesOverHTTPS is the load run: unmodified aztables clients
// in parallel goroutines, over TLS on loopback with SharedKeyLite, each
// iteration an insert followed by a point read of the inserted entity.
func BenchmarkTablesOverHTTPS(b *testing.B) {
	e := newStorageEnv(b)
	ctx := context.Background()
	svc := e.tables(b, e.key)
	if _, err := svc.CreateTable(ctx, "load", nil); err != nil {
		b.Fatal(err)
	}
	tc := svc.NewClient("load")
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			pk, rk := fmt.Sprintf("p%d", i%32), fmt.Sprintf("r%d", i)
			body, _ := json.Marshal(map[string]any{"PartitionKey": pk, "RowKey": rk, "N": i})
			if _, err := tc.AddEntity(ctx, body, nil); err != nil {
				b.Error(err)
				return
			}
			if _, err := tc.GetEntity(ctx, pk, rk, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "insert+read/s")
}
