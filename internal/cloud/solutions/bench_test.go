package solutions_test

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkApplicationCreateDelete measures one managed application's
// whole life through the Go SDK in process: the PUT (managed resource
// group, template deployment, policy assignment, grants, deny assignment,
// notifications queued) polled to its end, then the DELETE of it all.
func BenchmarkApplicationCreateDelete(b *testing.B) {
	w := newWorld(b, 0, "ReadOnly")
	ctx := context.Background()
	cust := w.customer.resources(b, custSub)
	b.ResetTimer()
	for i := range b.N {
		name := fmt.Sprintf("bench%d", i)
		app, err := w.appFrom(b, w.defID, name, "ServiceCatalog", nil)
		if err != nil {
			b.Fatal(err)
		}
		p, err := cust.BeginDeleteByID(ctx, *app.ID, apiVersion, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.PollUntilDone(ctx, &runtimePoll); err != nil {
			b.Fatal(err)
		}
	}
}
