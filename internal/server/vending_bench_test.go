package server

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/steward-gov/steward/internal/vending"
)

// BenchmarkVendingDiscovery measures GET /vending/v1/subscriptions/{id}/costCenters
// as a team, in process (token validation, a valet key from the cache,
// the catalog read through the Table service with the SAS).
func BenchmarkVendingDiscovery(b *testing.B) {
	e := newVendingEnv(b)
	path := "/vending/v1/subscriptions/" + e.subs[0] + "/costCenters"
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if st, _, out := e.call(b, e.teams[0], http.MethodGet, path, nil, nil); st != http.StatusOK {
			b.Fatalf("%d %v", st, out)
		}
	}
}

// BenchmarkVendingGroupCreation measures a granted request carried out to
// the end: the group, a role assignment, a policy assignment and the lock,
// through the ARM SDK as the execution context.
func BenchmarkVendingGroupCreation(b *testing.B) {
	e := newVendingEnv(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := vending.Request{SubscriptionID: e.subs[0], Name: fmt.Sprintf("b%d", i), Environment: "dev", CostCenter: "cc1",
			Region: "westeurope", Tags: map[string]string{"Owner": "bench"}}
		st, h, out := e.call(b, e.teams[0], http.MethodPost, "/vending/v1/resourceGroups", req, nil)
		if st != http.StatusAccepted {
			b.Fatalf("%d %v", st, out)
		}
		e.plane.Public.Wait()
		if _, _, rec := e.call(b, e.teams[0], http.MethodGet, h.Get("Location"), nil, nil); rec["status"] != vending.StatusSucceeded {
			b.Fatalf("request: %v", rec)
		}
	}
}
