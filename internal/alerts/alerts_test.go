package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

const ws = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws"
const ruleID = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Insights/scheduledQueryRules/r1"
const groupID = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Insights/actionGroups/g1"

// ruleJSON is a valid rule document; edit changes it before encoding.
func ruleJSON(edit func(p, c map[string]any)) []byte {
	c := map[string]any{"query": "T | where x > 1", "timeAggregation": "Count", "operator": "GreaterThan", "threshold": 0}
	p := map[string]any{"severity": 3, "enabled": true, "scopes": []any{ws}, "evaluationFrequency": "PT5M", "windowSize": "PT5M",
		"criteria": map[string]any{"allOf": []any{c}}, "actions": map[string]any{"actionGroups": []any{groupID}}}
	if edit != nil {
		edit(p, c)
	}
	b, _ := json.Marshal(map[string]any{"location": "eastus", "properties": p})
	return b
}

func TestParseRuleValidates(t *testing.T) {
	cases := []struct {
		name string
		edit func(p, c map[string]any)
		want string // substring of the error; "" = valid
	}{
		{"valid", nil, ""},
		{"no severity", func(p, c map[string]any) { delete(p, "severity") }, "severity"},
		{"severity 5", func(p, c map[string]any) { p["severity"] = 5 }, "between 0 and 4"},
		{"no enabled", func(p, c map[string]any) { delete(p, "enabled") }, "enabled"},
		{"subscription scope", func(p, c map[string]any) { p["scopes"] = []any{"/subscriptions/00000000-0000-0000-0000-000000000001"} }, "workspace"},
		{"two scopes", func(p, c map[string]any) { p["scopes"] = []any{ws, ws} }, "exactly one scope"},
		{"frequency 7m", func(p, c map[string]any) { p["evaluationFrequency"] = "PT7M" }, "Supported granularities"},
		{"window 3 days", func(p, c map[string]any) { p["windowSize"] = "P3D" }, "Supported granularities"},
		{"months", func(p, c map[string]any) { p["windowSize"] = "P1M" }, "months"},
		{"bad operator", func(p, c map[string]any) { c["operator"] = "Above" }, "operator"},
		{"bad aggregation", func(p, c map[string]any) { c["timeAggregation"] = "Median" }, "timeAggregation"},
		{"average without column", func(p, c map[string]any) { c["timeAggregation"] = "Average" }, "metricMeasureColumn"},
		{"no threshold", func(p, c map[string]any) { delete(c, "threshold") }, "threshold"},
		{"syntax error", func(p, c map[string]any) { c["query"] = "T | where (" }, "query"},
		{"syntax error skipped", func(p, c map[string]any) { c["query"] = "T | where ("; p["skipQueryValidation"] = true }, ""},
		{"fork", func(p, c map[string]any) { c["query"] = "T | fork (count) (take 1)" }, "several result tables"},
		{"facet", func(p, c map[string]any) { c["query"] = "T | facet by x | as F" }, "several result tables"},
		{"batch", func(p, c map[string]any) { c["query"] = "T | count; T | take 1" }, "several result tables"},
		{"funnel_sequence", func(p, c map[string]any) {
			c["query"] = "T | evaluate funnel_sequence(id, ts, datetime(2024-01-01), datetime(2024-01-02), 10m, 1d, state, dynamic(['a']))"
		}, "several result tables"},
		{"one table named by as", func(p, c map[string]any) { c["query"] = "let n = 1; T | where x > n | as R" }, ""},
		{"two conditions", func(p, c map[string]any) { p["criteria"] = map[string]any{"allOf": []any{c, c}} }, "exactly one condition"},
		{"min > periods", func(p, c map[string]any) {
			c["failingPeriods"] = map[string]any{"numberOfEvaluationPeriods": 2, "minFailingPeriodsToAlert": 3}
		}, "minFailingPeriodsToAlert"},
		{"mute with autoMitigate", func(p, c map[string]any) { p["muteActionsDuration"] = "PT30M" }, "Auto mitigation must be disabled"},
		{"mute shorter than frequency", func(p, c map[string]any) {
			p["muteActionsDuration"] = "PT1M"
			p["autoMitigate"] = false
		}, "EvaluationFrequency cannot be greater than MuteActionsDuration"},
		{"dimension operator", func(p, c map[string]any) {
			c["dimensions"] = []any{map[string]any{"name": "x", "operator": "Only", "values": []any{"*"}}}
		}, "Include or Exclude"},
		{"bad action group", func(p, c map[string]any) { p["actions"] = map[string]any{"actionGroups": []any{ws}} }, "action group"},
		{"override shorter than window", func(p, c map[string]any) { p["overrideQueryTimeRange"] = "PT1M" }, "overrideQueryTimeRange"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRule(ruleID, ruleJSON(tc.edit))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ParseRule: %v", err)
				}
				if r.Name != "r1" || r.Range != 5*time.Minute || !r.Stateful || r.ResolveAfter != 15*time.Minute {
					t.Errorf("rule = %+v", r)
				}
				return
			}
			var ae *arm.Error
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || !strings.Contains(ae.Message, tc.want) {
				t.Fatalf("ParseRule error = %v, want a 400 mentioning %q", err, tc.want)
			}
		})
	}
}

func TestResolveAfterFollowsTheFrequency(t *testing.T) {
	for freq, want := range map[time.Duration]time.Duration{
		time.Minute: 10 * time.Minute, 5 * time.Minute: 15 * time.Minute, 15 * time.Minute: 45 * time.Minute,
		30 * time.Minute: time.Hour, 6 * time.Hour: 12 * time.Hour, 24 * time.Hour: 24 * time.Hour,
	} {
		if got := resolveAfter(freq); got != want {
			t.Errorf("resolveAfter(%s) = %s, want %s", freq, got, want)
		}
	}
}

func TestDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{"PT5M": 5 * time.Minute, "PT1H30M": 90 * time.Minute, "P1D": 24 * time.Hour,
		"P2DT1H": 49 * time.Hour, "PT0.5S": 500 * time.Millisecond, "p1w": 7 * 24 * time.Hour} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "5M", "PT", "P1Y", "PT5X", "P1H", "PTM"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
	for _, d := range []time.Duration{5 * time.Minute, time.Hour, 24 * time.Hour, 26*time.Hour + 5*time.Minute} {
		back, err := ParseDuration(FormatDuration(d))
		if err != nil || back != d {
			t.Errorf("FormatDuration(%s) = %s, parses back to %s", d, FormatDuration(d), back)
		}
	}
}

func mustRule(t *testing.T, edit func(p, c map[string]any)) *Rule {
	t.Helper()
	r, err := ParseRule(ruleID, ruleJSON(edit))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMeasure(t *testing.T) {
	end := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	at := func(min int) string { return end.Add(time.Duration(min) * time.Minute).Format(time.RFC3339) }
	table := &Table{
		Columns: []Column{{"TimeGenerated", "datetime"}, {"Computer", "string"}, {"Cpu", "real"}},
		Rows: [][]any{
			{at(-14), "vm1", 95.0}, {at(-9), "vm1", 50.0}, {at(-4), "vm1", 91.0}, {at(-3), "vm1", 99.0},
			{at(-4), "vm2", 10.0}, {at(-2), "vm3", 97.0},
		},
	}
	dims := func(vals ...any) []any {
		return []any{map[string]any{"name": "Computer", "operator": "Include", "values": vals}}
	}
	cases := []struct {
		name string
		edit func(p, c map[string]any)
		want string // "key=value/failing violating;..." by computer
	}{
		{"count, one series", nil, "=6/1 true"},
		{"count by computer", func(p, c map[string]any) { c["dimensions"] = dims("*") }, "vm1=4/1 true;vm2=1/1 true;vm3=1/1 true"},
		{"include listed", func(p, c map[string]any) { c["dimensions"] = dims("vm2") }, "vm2=1/1 true"},
		{"exclude listed", func(p, c map[string]any) {
			c["dimensions"] = []any{map[string]any{"name": "Computer", "operator": "Exclude", "values": []any{"vm1"}}}
		}, "vm2=1/1 true;vm3=1/1 true"},
		{"average over 3 periods, 2 must fail", func(p, c map[string]any) {
			c["dimensions"] = dims("*")
			c["timeAggregation"], c["metricMeasureColumn"], c["threshold"] = "Average", "Cpu", 90
			c["failingPeriods"] = map[string]any{"numberOfEvaluationPeriods": 3, "minFailingPeriodsToAlert": 2}
		}, "vm1=95/2 true;vm2=10/0 false;vm3=97/1 false"},
		{"maximum", func(p, c map[string]any) {
			c["dimensions"] = dims("vm1")
			c["timeAggregation"], c["metricMeasureColumn"], c["threshold"], c["operator"] = "Maximum", "Cpu", 99, "GreaterThanOrEqual"
		}, "vm1=99/1 true"},
		{"total less than", func(p, c map[string]any) {
			c["dimensions"] = dims("*")
			c["timeAggregation"], c["metricMeasureColumn"], c["threshold"], c["operator"] = "Total", "Cpu", 100, "LessThan"
		}, "vm1=335/0 false;vm2=10/1 true;vm3=97/1 true"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRule(t, tc.edit)
			series, err := Measure(r, table, end)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range series {
				name := ""
				if len(s.Dimensions) > 0 {
					name = s.Dimensions[0].Value
				}
				got = append(got, fmt.Sprintf("%s=%g/%d %t", name, s.Value, s.Failing, s.Violating))
			}
			// Series come sorted by key (a hash); compare as sets.
			if want := strings.Split(tc.want, ";"); !sameSet(got, want) {
				t.Errorf("series = %v, want %v", got, want)
			}
		})
	}
	// No rows: the single series counts 0, so "fewer than 1" fires.
	r := mustRule(t, func(p, c map[string]any) { c["operator"], c["threshold"] = "LessThan", 1 })
	series, err := Measure(r, &Table{Columns: table.Columns}, end)
	if err != nil || len(series) != 1 || !series[0].Violating || series[0].Value != 0 {
		t.Errorf("empty result: %+v %v", series, err)
	}
	// Columns the rule names must be there.
	r = mustRule(t, func(p, c map[string]any) {
		c["dimensions"] = []any{map[string]any{"name": "Missing", "operator": "Include", "values": []any{"*"}}}
	})
	if _, err := Measure(r, table, end); err == nil || !strings.Contains(err.Error(), "Missing") {
		t.Errorf("missing dimension column: %v", err)
	}
	r = mustRule(t, func(p, c map[string]any) {
		c["failingPeriods"] = map[string]any{"numberOfEvaluationPeriods": 2, "minFailingPeriodsToAlert": 1}
	})
	if _, err := Measure(r, &Table{Columns: []Column{{"x", "long"}}, Rows: [][]any{{1.0}}}, end); err == nil {
		t.Error("several periods without a datetime column were measured")
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestStepStateMachine(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	ids := 0
	newID := func() string { ids++; return fmt.Sprintf("a%d", ids) }
	bad := &Series{Key: "k", Violating: true, Value: 3}
	good := &Series{Key: "k", Value: 0}
	type step struct {
		at   time.Duration
		s    *Series
		want string // event condition, "" for none
	}
	run := func(t *testing.T, r *Rule, steps []step) []string {
		var st *SeriesState
		var got []string
		for _, s := range steps {
			var ev *Event
			st, ev = Step(r, st, s.s, t0.Add(s.at), newID)
			e := ""
			if ev != nil {
				e = ev.Condition + ":" + ev.AlertID
				if ev.Muted {
					e += ":muted"
				}
			}
			got = append(got, e)
		}
		return got
	}
	stateful := mustRule(t, nil) // 5 minutes: resolves after 15
	got := run(t, stateful, []step{{0, bad, ""}, {5 * time.Minute, bad, ""}, {10 * time.Minute, good, ""},
		{15 * time.Minute, nil, ""}, {20 * time.Minute, good, ""}, {25 * time.Minute, good, ""}, {30 * time.Minute, bad, ""}})
	want := []string{"Fired:a1", "", "", "", "Resolved:a1", "", "Fired:a2"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("stateful: %v, want %v", got, want)
	}
	never := mustRule(t, func(p, c map[string]any) {
		p["ruleResolveConfiguration"] = map[string]any{"autoResolved": false}
	})
	got = run(t, never, []step{{0, bad, ""}, {time.Hour, good, ""}, {48 * time.Hour, good, ""}})
	if strings.Join(got, ",") != "Fired:a3,," {
		t.Errorf("autoResolved false: %v", got)
	}
	stateless := mustRule(t, func(p, c map[string]any) {
		p["autoMitigate"] = false
		p["muteActionsDuration"] = "PT10M"
	})
	got = run(t, stateless, []step{{0, bad, ""}, {5 * time.Minute, bad, ""}, {10 * time.Minute, bad, ""}, {15 * time.Minute, good, ""}, {20 * time.Minute, bad, ""}})
	want = []string{"Fired:a4", "Fired:a5:muted", "Fired:a6", "", "Fired:a7"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("stateless with mute: %v, want %v", got, want)
	}
}

func TestPayloadIsCapped(t *testing.T) {
	r := mustRule(t, func(p, c map[string]any) { p["description"] = strings.Repeat("d", 4000) })
	r.Query = "T | where x == '" + strings.Repeat("q", 300<<10) + "'"
	big := []DimensionValue{{Name: "Computer", Value: strings.Repeat("v", 300<<10)}}
	n := &Notification{Rule: r, Event: Event{Condition: Fired, AlertID: "a", FiredAt: time.Now(), Series: Series{Value: math.NaN(), Dimensions: big}},
		WindowStart: time.Now().Add(-5 * time.Minute), WindowEnd: time.Now(), QueryBase: "https://steward.local"}
	for name, b := range map[string][]byte{"common": n.CommonSchema(), "legacy": n.LegacySchema()} {
		if len(b) > MaxPayloadBytes {
			t.Errorf("%s payload is %d bytes", name, len(b))
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Errorf("%s payload: %v", name, err)
		}
	}
}

// fakeSource serves one rule and one action group.
type fakeSource struct {
	rule, group []byte
}

func (f fakeSource) Rules(context.Context) ([]RawResource, error) {
	return []RawResource{{ID: ruleID, Body: f.rule}}, nil
}

func (f fakeSource) ActionGroup(_ context.Context, id string) ([]byte, error) {
	if !strings.EqualFold(id, groupID) {
		return nil, errors.New("not found")
	}
	return f.group, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "alerts.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestWebhookRetriedUntilItRecovers: a receiver that fails three times then
// recovers gets the notification exactly once, on Azure's retry schedule,
// with one idempotency key across the attempts.
func TestWebhookRetriedUntilItRecovers(t *testing.T) {
	var mu sync.Mutex
	var attempts []string
	fail := 3
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, r.Header.Get(IdempotencyHeader))
		if fail > 0 {
			fail--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer recv.Close()
	group, _ := json.Marshal(map[string]any{"location": "Global", "properties": map[string]any{"groupShortName": "g", "enabled": true,
		"webhookReceivers": []any{map[string]any{"name": "hook", "serviceUri": recv.URL, "useCommonAlertSchema": true}}}})
	c := &clock{t: time.Date(2026, 12, 6, 10, 0, 1, 0, time.UTC)}
	rows := [][]any{{"x"}}
	svc, err := New(Options{Store: openStore(t), Source: fakeSource{rule: ruleJSON(nil), group: group}, Now: c.now,
		Query: func(context.Context, string, string, time.Time, time.Time) (*Table, error) {
			return &Table{Columns: []Column{{"c", "string"}}, Rows: rows}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(attempts) }
	if n := count(); n != 1 {
		t.Fatalf("first tick: %d attempts", n)
	}
	// Nothing is retried before its delay: 5 s, then 20 s, then 5 s.
	for _, step := range []struct {
		wait time.Duration
		want int
	}{{4 * time.Second, 1}, {time.Second, 2}, {19 * time.Second, 2}, {time.Second, 3}, {5 * time.Second, 4}, {time.Minute, 4}, {time.Hour, 4}} {
		c.add(step.wait)
		if err := svc.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != step.want {
			t.Fatalf("after %s more: %d attempts, want %d", step.wait, n, step.want)
		}
	}
	mu.Lock()
	for _, k := range attempts {
		if k == "" || k != attempts[0] {
			t.Errorf("idempotency keys differ: %q", attempts)
		}
	}
	mu.Unlock()
	ds, err := svc.Deliveries(ctx)
	if err != nil || len(ds) != 1 || ds[0].State != Delivered || ds[0].Attempts != 4 {
		t.Errorf("deliveries: %+v %v", ds, err)
	}
	// The same due time is never evaluated twice.
	if ran, err := svc.Evaluate(ctx, mustRule(t, nil), time.Date(2026, 12, 6, 10, 4, 0, 0, time.UTC)); ran || err != nil {
		t.Errorf("re-evaluation of a done due time: %v %v", ran, err)
	}
}

// TestFailingQueryIsRecordedNotRetriedHot: a rule whose query fails (as one
// tripping the query governor does) records the error in its health and
// waits before it runs again.
func TestFailingQueryIsRecordedNotRetriedHot(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 6, 10, 0, 1, 0, time.UTC)}
	calls := 0
	svc, err := New(Options{Store: openStore(t), Source: fakeSource{rule: ruleJSON(nil)}, Now: c.now,
		Query: func(context.Context, string, string, time.Time, time.Time) (*Table, error) {
			calls++
			return nil, errors.New("E_LOW_MEMORY_CONDITION: the query used more memory than allowed")
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 5 {
		if err := svc.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		c.add(time.Second)
	}
	if calls != 1 {
		t.Errorf("the failing query ran %d times within one period", calls)
	}
	h, err := svc.RuleHealth(ctx, ruleID)
	if err != nil || !strings.Contains(h.LastError, "E_LOW_MEMORY_CONDITION") || h.ConsecutiveFailures != 1 {
		t.Errorf("health: %+v %v", h, err)
	}
	c.add(5 * time.Minute) // next due time: still held back (backoff doubles)
	svc.Tick(ctx)
	c.add(5 * time.Minute)
	svc.Tick(ctx)
	if calls != 2 {
		t.Errorf("after backoff: %d calls, want 2", calls)
	}
}
