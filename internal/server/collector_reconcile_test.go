package server

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/collector"
)

// TestCollectorReconcileSchedule runs the reconciliation schedule on two
// replicas sharing one store: each interval exactly one of them
// reconciles (a recorded application ARM no longer has is removed), the
// other finds it not due or busy; the next interval reconciles again; and
// on demand reconciles at once.
func TestCollectorReconcileSchedule(t *testing.T) {
	ce := newCollectorEnv(t)
	ctx := context.Background()
	apps, err := collector.NewApplications(ce.cred, ce.armOpts)
	if err != nil {
		t.Fatal(err)
	}
	ghost := func(name string) collector.Deployment {
		t.Helper()
		d := collector.Deployment{ApplicationID: "/subscriptions/" + ce.sub + "/resourceGroups/apps/providers/Microsoft.Solutions/applications/" + name,
			SubscriptionID: ce.sub, ResourceGroup: "apps", Name: name, ManagedResourceGroupID: "/subscriptions/" + ce.sub + "/resourceGroups/mrg-" + name,
			ProvisioningState: collector.StateSucceeded}
		if err := ce.inventory.Put(ctx, d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	gone := func(d collector.Deployment) bool {
		t.Helper()
		pk, rk := d.Key()
		_, err := ce.inventory.Get(ctx, pk, rk)
		if errors.Is(err, collector.ErrNoDeployment) {
			return true
		}
		if err != nil {
			t.Fatalf("inventory: %v", err)
		}
		return false
	}
	replica := func(owner string) *collector.Reconciler {
		return collector.NewReconciler(collector.Reconciler{Store: ce.s.Store, Apps: apps, Inventory: ce.inventory, Interval: time.Hour,
			Check: 5 * time.Millisecond, Owner: owner, Now: ce.clock.Now})
	}
	a, b := replica("a"), replica("b")
	waitCount := func(n int) collector.Reconciliation {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			last, err := a.Last(ctx)
			if err == nil && last.Count >= n {
				return last
			}
			if time.Now().After(deadline) {
				t.Fatalf("reconciliation %d never happened: %+v %v", n, last, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	notDue := func() {
		t.Helper()
		for _, r := range []*collector.Reconciler{a, b} {
			if _, err := r.Once(ctx, false); !errors.Is(err, collector.ErrNotDue) && !errors.Is(err, collector.ErrReconcileBusy) {
				t.Fatalf("a reconciliation was done again in the same interval: %v", err)
			}
		}
	}

	g1 := ghost("gone-1")
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, r := range []*collector.Reconciler{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(runCtx) }()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })

	first := waitCount(1)
	if !gone(g1) || first.Result.Removed != 1 || first.Error != "" {
		t.Fatalf("the first scheduled reconciliation: %+v, ghost gone %v", first, gone(g1))
	}
	// Within the interval, neither replica reconciles again.
	g2 := ghost("gone-2")
	notDue()
	if gone(g2) {
		t.Fatal("reconciled again within the interval")
	}
	if last, _ := a.Last(ctx); last.Count != 1 {
		t.Fatalf("two replicas reconciled in one interval: %+v", last)
	}
	// While one replica holds the reconciliation, the other skips.
	lk, err := ce.s.Store.Lock(ctx, "collector.reconcile")
	if err != nil {
		t.Fatal(err)
	}
	ce.clock.Set(ce.clock.Now().Add(time.Hour + time.Second))
	if _, err := b.Once(ctx, false); !errors.Is(err, collector.ErrReconcileBusy) {
		t.Fatalf("a replica reconciled while another held the lock: %v", err)
	}
	if err := lk.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// The next interval: the schedule reconciles once more.
	second := waitCount(2)
	if !gone(g2) || second.Result.Removed != 1 {
		t.Fatalf("the second scheduled reconciliation: %+v, ghost gone %v", second, gone(g2))
	}
	notDue()
	if last, _ := a.Last(ctx); last.Count != 2 {
		t.Fatalf("reconciliations after two intervals: %+v", last)
	}
	// On demand: at once, whatever the schedule says.
	g3 := ghost("gone-3")
	now, err := b.Once(ctx, true)
	if err != nil || now.Count != 3 || now.Result.Removed != 1 || now.By != "b" || !gone(g3) {
		t.Fatalf("on demand: %+v %v", now, err)
	}
}
