package reports

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// webhook is a loopback ticketing system: it records the common alert
// schema posts it receives, and can be told to fail.
type webhook struct {
	mu    sync.Mutex
	posts []map[string]any
	fail  bool
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail {
		http.Error(rw, "down", http.StatusServiceUnavailable)
		return
	}
	b, _ := io.ReadAll(r.Body)
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	w.posts = append(w.posts, doc)
}

// take returns "condition resource" per post since the last call.
func (w *webhook) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, p := range w.posts {
		data := p["data"].(map[string]any)
		e := data["essentials"].(map[string]any)
		if p["schemaId"] != "azureMonitorCommonAlertSchema" || e["monitoringService"] != "Steward Reports" || e["alertRule"] != "steward-report-rogue" {
			out = append(out, "malformed")
			continue
		}
		out = append(out, e["monitorCondition"].(string)+" "+lastSegment(e["alertTargetIDs"].([]any)[0].(string)))
	}
	w.posts = nil
	sort.Strings(out)
	return out
}

func TestSchedulerRaisesDeduplicatesAndResolvesIncidents(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "reports.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hook := &webhook{}
	srv := httptest.NewServer(hook)
	defer srv.Close()

	finding := func(name string) Finding {
		return Finding{Report: "rogue", Kind: "RogueResource", Severity: High,
			ResourceID: "/subscriptions/s/resourceGroups/app/providers/Microsoft.Storage/storageAccounts/" + name, Message: "made by hand"}
	}
	var current []Finding
	var failRun bool
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var recorded []string
	sched := NewScheduler(SchedulerOptions{
		Store:        st,
		Subscription: "s",
		Now:          func() time.Time { return now },
		Jobs: []Job{{Name: "rogue", Every: time.Hour, Run: func(context.Context) ([]Finding, error) {
			if failRun {
				return nil, io.ErrUnexpectedEOF
			}
			return current, nil
		}}},
		Notify: func(ctx context.Context, payload []byte) error {
			return PostWebhooks(ctx, srv.Client(), []string{srv.URL}, payload)
		},
		Record: func(_ context.Context, table string, rows []map[string]any) error {
			for _, r := range rows {
				recorded = append(recorded, table+" "+strings.TrimSpace(r["Job_s"].(string)))
			}
			return nil
		},
	})
	step := func(want ...string) {
		t.Helper()
		if err := sched.Tick(ctx); err != nil && !failRun {
			t.Fatal(err)
		}
		got := hook.take()
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("at %s: notifications %v, want %v", now.Format(time.Kitchen), got, want)
		}
		now = now.Add(time.Hour)
	}
	current = []Finding{finding("a"), finding("b")}
	step("Fired a", "Fired b")
	// Not due yet: nothing runs.
	now = now.Add(-30 * time.Minute)
	step()
	now = now.Add(-30 * time.Minute)
	// Same findings on the next run: no new incident.
	step()
	// b is gone: resolved; c is new: fired.
	current = []Finding{finding("a"), finding("c")}
	step("Fired c", "Resolved b")
	// A failed run changes nothing and is recorded.
	failRun = true
	step()
	runs, err := sched.Runs(ctx)
	if err != nil || len(runs) != 1 || runs[0].Error == "" {
		t.Fatalf("runs after a failure: %+v %v", runs, err)
	}
	failRun = false
	// The webhook is down when a resolves: it is told on a later run.
	current = []Finding{finding("c")}
	hook.fail = true
	step()
	if runs, _ := sched.Runs(ctx); runs[0].NotifyErr == "" || runs[0].Resolved != 0 {
		t.Errorf("a failed notification is not visible: %+v", runs[0])
	}
	hook.fail = false
	step("Resolved a")
	if runs, _ := sched.Runs(ctx); runs[0].Error != "" || runs[0].Findings != 1 || runs[0].Resolved != 1 {
		t.Errorf("last run: %+v", runs[0])
	}
	if n := strings.Count(strings.Join(recorded, "\n"), RunsTable); n != 6 {
		t.Errorf("%d run rows, want 6 (one per run):\n%s", n, strings.Join(recorded, "\n"))
	}
}
