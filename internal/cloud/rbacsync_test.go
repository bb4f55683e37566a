package cloud

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/store"
)

func TestReplicasPickUpEachOthersGrants(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	open := func() *Cloud {
		c, err := New(Options{Store: st, TenantID: uuid.NewString(), Clock: clock,
			Authenticate: func(h http.Handler) http.Handler { return h }})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := open(), open()
	p := identity.Principal{ObjectID: uuid.NewString()}
	req := rbac.Request{Action: "Microsoft.Web/sites/read", Scope: "/subscriptions/s1"}
	doc := rbac.RoleAssignmentDocument("/subscriptions/s1", rbac.ReaderRoleID, p.ObjectID, rbac.PrincipalUser)
	if _, _, err := a.Put(ctx, nil, PutRequest{ID: doc["id"].(string), Type: TypeRoleAssignment, Doc: doc}); err != nil {
		t.Fatal(err)
	}
	if !a.Allowed(ctx, p, req) {
		t.Fatal("the writing replica does not see its own grant")
	}
	// The clock stands still, so the fallback poll never fires: the other
	// replica learns of the grant through the store's notification alone.
	eventually := func(c *Cloud, want bool, what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			c.refreshRBAC(ctx)
			if c.Allowed(ctx, p, req) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal(what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	eventually(b, true, "the other replica missed the grant")
	if _, found, err := b.Delete(ctx, nil, DeleteRequest{ID: doc["id"].(string)}); err != nil || !found {
		t.Fatal(found, err)
	}
	eventually(a, false, "a revocation on the other replica did not reach this one")
}

// Without a notification (one lost with a database session), a replica
// still looks again once the interval has passed.
func TestReplicasFallBackToPollingTheGeneration(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err := New(Options{Store: st, TenantID: uuid.NewString(), Clock: func() time.Time { return now },
		Authenticate: func(h http.Handler) http.Handler { return h }})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Another replica's grant, written straight to the store with no
	// notification: the counter moves, nobody is told.
	p := identity.Principal{ObjectID: uuid.NewString()}
	req := rbac.Request{Action: "Microsoft.Web/sites/read", Scope: "/subscriptions/s1"}
	doc := rbac.RoleAssignmentDocument("/subscriptions/s1", rbac.ReaderRoleID, p.ObjectID, rbac.PrincipalUser)
	err = st.Update(ctx, func(tx store.Tx) error {
		if _, err := putResource(ctx, tx, Resource{ID: doc["id"].(string), Type: TypeRoleAssignment, Doc: doc}, store.IfAbsent()); err != nil {
			return err
		}
		_, err := bumpCounter(ctx, tx, rbacGenerationKey)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c.refreshRBAC(ctx)
	if c.Allowed(ctx, p, req) {
		t.Fatal("looked again before the interval without a notification")
	}
	now = now.Add(rbacRefreshInterval)
	c.refreshRBAC(ctx)
	if !c.Allowed(ctx, p, req) {
		t.Fatal("missed the grant after the interval")
	}
}

func TestPruneActivityDropsOldEvents(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err := New(Options{Store: st, Clock: func() time.Time { return now }, Authenticate: func(h http.Handler) http.Handler { return h }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, _, err := c.CreateSubscription(ctx, nil, Subscription{ID: uuid.NewString()}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Duration(i+1) * 24 * time.Hour)
	}
	n, err := c.PruneActivity(ctx, time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC))
	if err != nil || n != 2 {
		t.Fatalf("pruned %d (%v), want the 2 events before the cutoff", n, err)
	}
}
