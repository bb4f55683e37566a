package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// TestReplicasShareOnePostgres starts two Stewards on one PostgreSQL
// schema with data directories of their own: they share the home tenant
// and its signing key, so a token from one validates on the other, and
// each has administrator credentials of its own.
func TestReplicasShareOnePostgres(t *testing.T) {
	url := storetest.PostgresSchema(t)
	start := func() *Steward {
		cfg := DefaultConfig()
		cfg.DataDir, cfg.Listen, cfg.StoreURL = t.TempDir(), "127.0.0.1:0", url
		cfg.PublicURL = "https://localhost:8443/" // one public URL in front of both
		s, err := Open(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Error(errors.New("replica did not stop"))
			}
		})
		return s
	}
	a, b := start(), start()
	if a.Bootstrap.TenantID != b.Bootstrap.TenantID || a.Bootstrap.ClientID != b.Bootstrap.ClientID ||
		a.Bootstrap.ClientSecret == b.Bootstrap.ClientSecret {
		t.Fatalf("replicas: %+v / %+v", a.Bootstrap, b.Bootstrap)
	}
	for _, pair := range [][2]*Steward{{a, b}, {b, a}} {
		issuer, validator := pair[0], pair[1]
		if who := whoami(t, validator, adminARMToken(t, issuer)); who["objectId"] != issuer.Bootstrap.ObjectID {
			t.Errorf("token from one replica on the other: %v", who)
		}
	}
}

// TestShutdownHandsLeasesBackAndQueuesShowInMetrics runs two replicas on
// one PostgreSQL schema: a queue a service names shows its depth, held
// and expired leases on /metrics; a replica that shuts down while holding
// work hands it back, so the other takes it at once instead of after the
// lease (an hour here) expires.
func TestShutdownHandsLeasesBackAndQueuesShowInMetrics(t *testing.T) {
	url := storetest.PostgresSchema(t)
	ctx := context.Background()
	open := func() (*Steward, context.CancelFunc, func() error) {
		cfg := DefaultConfig()
		cfg.DataDir, cfg.Listen, cfg.StoreURL = t.TempDir(), "127.0.0.1:0", url
		cfg.PublicURL = "https://localhost:8443/"
		s, err := Open(ctx, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Queue("test-work", "test.work", "job/")
		runCtx, cancel := context.WithCancel(ctx)
		finished := make(chan struct{})
		var runErr error
		go func() { runErr = s.Run(runCtx); close(finished) }()
		wait := func() error { <-finished; return runErr }
		t.Cleanup(func() { cancel(); _ = wait() })
		return s, cancel, wait
	}
	a, stopA, waitA := open()
	b, _, _ := open()
	err := a.Store.Update(ctx, func(tx store.Tx) error {
		for _, k := range []string{"job/1", "job/2", "job/3"} {
			if _, err := tx.Put(ctx, "test.work", k, []byte("{}"), store.Cond{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ls, err := a.Store.Acquire(ctx, "test.work", "job/", a.ReplicaID, time.Hour, 2); err != nil || len(ls) != 2 {
		t.Fatalf("a's lease: %v %v", ls, err)
	}
	if _, err := b.Store.Acquire(ctx, "test.work", "job/", "crashed-replica", time.Nanosecond, 1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	metrics := scrape(t, b)
	for _, want := range []string{
		`steward_queue_depth{queue="test-work"} 3`,
		`steward_queue_leased{queue="test-work"} 2`,
		`steward_queue_expired_leases{queue="test-work"} 1`,
		`steward_queue_scrape_ok{queue="test-work"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if !strings.Contains(metrics, `steward_queue_oldest_age_seconds{queue="test-work"}`) {
		t.Error("/metrics lacks the queue's age")
	}
	if ls, _ := b.Store.Acquire(ctx, "test.work", "job/", b.ReplicaID, time.Hour, 10); len(ls) != 1 {
		t.Fatalf("b leased %d items while a held two; want only the expired one", len(ls))
	}
	stopA()
	if err := waitA(); err != nil {
		t.Fatal(err)
	}
	ls, err := b.Store.Acquire(ctx, "test.work", "job/", b.ReplicaID, time.Hour, 10)
	if err != nil || len(ls) != 2 {
		t.Fatalf("after a shut down, b leased %d items (%v); want the two a handed back", len(ls), err)
	}
}

// scrape reads s's /metrics in process.
func scrape(t *testing.T, s *Steward) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	rec := httptest.NewRecorder()
	s.Server.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	return rec.Body.String()
}
