package alerts

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"

	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// chaosAlertEnv hands the child replica of TestKill9DuringAlertDelivery
// its settings (chaosReplica as JSON) and tells the binary it is that
// child.
const chaosAlertEnv = "STEWARD_CHAOS_ALERT"

type chaosReplica struct {
	Store, Webhook string
	Now            time.Time
	// InQuery makes the replica tell the receiver (GET /querying) that it
	// runs the rule's query and then hang in it, before anything commits.
	InQuery bool
}

// chaosGroup is an action group with one webhook receiver at url.
func chaosGroup(url string) []byte {
	b, _ := json.Marshal(map[string]any{"properties": map[string]any{"groupShortName": "g", "enabled": true,
		"webhookReceivers": []any{map[string]any{"name": "hook", "serviceUri": url, "useCommonAlertSchema": true}}}})
	return b
}

// TestKill9DuringAlertDelivery: replica A (a child process) evaluates a
// violated rule, commits the fired alert and its notification, and is
// killed with SIGKILL while its post to the webhook is in flight (the
// receiver holds the request and never answers it). Replica B (this
// process) does not evaluate that due time again, takes the notification
// over when A's delivery lease expires and posts it: the receiver
// accepts exactly one notification for the alert, every attempt carries
// the same Idempotency-Key, and later due times of the still violated
// rule notify nobody.
func TestKill9DuringAlertDelivery(t *testing.T) {
	storetest.RunReplica(chaosAlertEnv, time.Minute, alertReplica)
	url := storetest.PostgresSchema(t)
	var (
		mu       sync.Mutex
		keys     = map[string]int{} // attempts per Idempotency-Key
		accepted = map[string]int{} // answered 2xx, per alert ID
		attempts int
	)
	inFlight := make(chan struct{})
	release := make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p struct {
			Data struct {
				Essentials struct {
					AlertID string `json:"alertId"`
				} `json:"essentials"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &p)
		mu.Lock()
		attempts++
		first := attempts == 1
		keys[r.Header.Get(IdempotencyHeader)]++
		mu.Unlock()
		if first { // A's post: held until A is dead, never acknowledged
			close(inFlight)
			<-release
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		accepted[p.Data.Essentials.AlertID]++
		mu.Unlock()
	}))
	defer recv.Close()
	defer releaseOnce()

	c := &clock{t: time.Date(2026, 12, 6, 10, 0, 1, 0, time.UTC)}
	a := storetest.StartReplica(t, chaosAlertEnv, chaosReplica{Store: url, Webhook: recv.URL, Now: c.now()})
	storetest.Await(t, a, inFlight, 40*time.Second, "replica A did not post the notification")
	a.Kill(t)
	killed := time.Now()
	releaseOnce()

	var queries atomic.Int32
	b := openReplicaB(t, url, recv.URL, c, &queries)
	ctx := context.Background()
	instances, err := b.Alerts(ctx, Filter{})
	if err != nil || len(instances) != 1 {
		t.Fatalf("alerts A committed before it died: %d %v; want 1", len(instances), err)
	}
	tickUntilAccepted(t, b, &mu, accepted, "replica B did not deliver the notification within 40 s of the kill")
	t.Logf("B delivered A's notification %.1f s after A was killed (delivery lease 2 s)", time.Since(killed).Seconds())
	if q := queries.Load(); q != 0 {
		t.Errorf("B queried %d times for the due time A evaluated; want 0", q)
	}
	tickLater(t, b, c) // later due times, still violated: no new notification
	mu.Lock()
	defer mu.Unlock()
	want := alertResourceID(ruleID, instances[0].ID)
	if len(accepted) != 1 || accepted[want] != 1 {
		t.Errorf("accepted notifications per alert: %v; want one for %s", accepted, want)
	}
	if len(keys) != 1 || attempts != 2 {
		t.Errorf("attempts %d with keys %v; want A's and B's, with one Idempotency-Key", attempts, keys)
	}
	if instances, err := b.Alerts(ctx, Filter{}); err != nil || len(instances) != 1 {
		t.Errorf("alerts after B's ticks: %d %v; want the one A created", len(instances), err)
	}
	if q := queries.Load(); q != 3 {
		t.Errorf("B ran %d queries for three later due times", q)
	}
}

// openReplicaB opens the shared store at url as replica B (this
// process), whose action groups post to webhook and whose queries find a
// row, counted in queries.
func openReplicaB(t *testing.T, url, webhook string, c *clock, queries *atomic.Int32) *Service {
	t.Helper()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := New(Options{Store: st, Source: fakeSource{rule: ruleJSON(nil), group: chaosGroup(webhook)}, Now: c.now,
		Owner: "replica-b", DeliveryLease: 2 * time.Second,
		Query: func(context.Context, string, string, time.Time, time.Time) (*Table, error) {
			queries.Add(1)
			return &Table{Columns: []Column{{"c", "string"}}, Rows: [][]any{{"x"}}}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tickUntilAccepted ticks b until the receiver has accepted a
// notification (accepted, under mu, is not empty), and fails t with
// failure when none is 40 s after the kill.
func tickUntilAccepted(t *testing.T, b *Service, mu *sync.Mutex, accepted map[string]int, failure string) {
	t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		if err := b.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		n := len(accepted)
		mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(failure)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tickLater ticks b at the rule's next three due times.
func tickLater(t *testing.T, b *Service, c *clock) {
	t.Helper()
	for range 3 {
		c.add(5 * time.Minute)
		if err := b.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// alertReplica is replica A: one tick on the shared store, which commits
// the fired alert and posts its notification, where it is killed.
func alertReplica(cfg chaosReplica) {
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Store)
	if err != nil {
		storetest.ChildExit("replica A:", err)
	}
	a, err := New(Options{Store: st, Source: fakeSource{rule: ruleJSON(nil), group: chaosGroup(cfg.Webhook)},
		Now: func() time.Time { return cfg.Now }, Owner: "replica-a", DeliveryLease: 2 * time.Second,
		Query: func(ctx context.Context, _, _ string, _, _ time.Time) (*Table, error) {
			if cfg.InQuery {
				if resp, err := http.Get(cfg.Webhook + "/querying"); err == nil {
					resp.Body.Close()
				}
				<-ctx.Done() // hangs until killed
			}
			return &Table{Columns: []Column{{"c", "string"}}, Rows: [][]any{{"x"}}}, nil
		}})
	if err != nil {
		storetest.ChildExit("replica A:", err)
	}
	if err := a.Tick(ctx); err != nil {
		storetest.ChildExit("replica A:", err)
	}
	time.Sleep(time.Minute)
}

// TestKill9DuringAlertEvaluation: replica A (a child process) is killed
// while it runs a rule's query, holding the rule's lock, before anything
// is committed. Replica B (this process) gets the lock once A's database
// session is gone, evaluates that due time itself and notifies once.
func TestKill9DuringAlertEvaluation(t *testing.T) {
	storetest.RunReplica(chaosAlertEnv, time.Minute, alertReplica)
	url := storetest.PostgresSchema(t)
	var mu sync.Mutex
	accepted := map[string]int{} // notifications per alert ID
	querying := make(chan struct{})
	queryingOnce := sync.OnceFunc(func() { close(querying) })
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/querying" {
			queryingOnce()
			return
		}
		var p struct {
			Data struct {
				Essentials struct {
					AlertID string `json:"alertId"`
				} `json:"essentials"`
			} `json:"data"`
		}
		_ = json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		accepted[p.Data.Essentials.AlertID]++
		mu.Unlock()
	}))
	defer recv.Close()

	c := &clock{t: time.Date(2026, 12, 6, 10, 0, 1, 0, time.UTC)}
	a := storetest.StartReplica(t, chaosAlertEnv, chaosReplica{Store: url, Webhook: recv.URL, Now: c.now(), InQuery: true})
	storetest.Await(t, a, querying, 40*time.Second, "replica A did not start the query")
	a.Kill(t)
	killed := time.Now()

	var queries atomic.Int32
	b := openReplicaB(t, url, recv.URL, c, &queries)
	ctx := context.Background()
	if instances, err := b.Alerts(ctx, Filter{}); err != nil || len(instances) != 0 {
		t.Fatalf("alerts after A died in its query: %d %v; want none", len(instances), err)
	}
	tickUntilAccepted(t, b, &mu, accepted, "replica B did not notify within 40 s of the kill")
	t.Logf("B evaluated the due time and notified %.1f s after A was killed", time.Since(killed).Seconds())
	tickLater(t, b, c) // later due times, still violated: no new notification
	instances, err := b.Alerts(ctx, Filter{})
	if err != nil || len(instances) != 1 {
		t.Fatalf("alerts: %d %v; want one", len(instances), err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := alertResourceID(ruleID, instances[0].ID)
	if len(accepted) != 1 || accepted[want] != 1 {
		t.Errorf("accepted notifications per alert: %v; want one for %s", accepted, want)
	}
	if q := queries.Load(); q != 4 {
		t.Errorf("B ran %d queries; want 4 (A's due time and three later ones)", q)
	}
}
