package insights_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud/insights"
)

// TestRescanKeepsUnchangedRowsCurrent: a scan does not rewrite the states
// it finds unchanged, yet queries report them as of the scan, so the
// default one-day window keeps them; an assignment's scan renews only that
// assignment's states, and rewrites those whose content changed.
func TestRescanKeepsUnchangedRowsCurrent(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(t0.UnixNano())
	e := newEnv(t, insights.Options{Clock: func() time.Time { return time.Unix(0, clock.Load()).UTC() }})
	ctx := t.Context()
	sub := "/subscriptions/" + e.sub
	e.put(t, e.rg("a"), "2021-04-01", map[string]any{"location": "westeurope"})
	def := e.httpsDefinition(t, "secure-transfer")
	audit := e.assign(t, sub, "audit", def, nil)
	e.assign(t, sub, "audit2", def, nil)
	e.waitIdle(t)
	for i := range 10 {
		e.storage(t, "a", fmt.Sprintf("sa%d", i), i%2 == 0)
	}
	rows := func() map[string]string { return tableETags(t, e.s.Cloud.Store(), "insights.states") }
	stamps := func() map[string]time.Time { return e.stamps(t, sub, nil) }
	before := rows()
	if len(before) != 20 {
		t.Fatalf("%d stored states, want 20 (10 sites × 2 assignments)", len(before))
	}

	// Two days on, the states are outside the default window until a scan
	// confirms them; the scan rewrites none of them.
	t1 := t0.Add(48 * time.Hour)
	clock.Store(t1.UnixNano())
	if got := stamps(); len(got) != 0 {
		t.Fatalf("states of two days ago in the default window: %v", got)
	}
	if err := e.engine.ScanScope(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if after := rows(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("an unchanged scan rewrote states:\nbefore %v\nafter  %v", before, after)
	}
	got := stamps()
	if len(got) != 20 {
		t.Fatalf("%d states in the default window after the scan, want 20: %v", len(got), got)
	}
	for k, ts := range got {
		if !ts.Equal(t1) {
			t.Errorf("%s reported at %s, want the scan's time %s", k, ts, t1)
		}
	}

	// An assignment's scan confirms its own states only.
	t2 := t1.Add(48 * time.Hour)
	clock.Store(t2.UnixNano())
	if err := e.engine.ScanAssignment(ctx, sub, audit); err != nil {
		t.Fatal(err)
	}
	got = stamps()
	var names []string
	for k, ts := range got {
		names = append(names, k)
		if !strings.HasSuffix(k, "/audit") || !ts.Equal(t2) {
			t.Errorf("%s at %s in the window after audit's scan at %s", k, ts, t2)
		}
	}
	if sort.Strings(names); len(names) != 10 {
		t.Errorf("after audit's scan the window holds %v, want audit's 10 states", names)
	}

	// A changed assignment rewrites those of its states whose content
	// changed (the effect of the non-compliant sites, sa1, sa3, ...; a
	// compliant state records none) and leaves the others' rows as they
	// are.
	t3 := t2.Add(time.Hour)
	clock.Store(t3.UnixNano())
	e.assign(t, sub, "audit2", def, map[string]any{"parameters": map[string]any{"effect": map[string]any{"value": "Deny"}},
		"enforcementMode": "DoNotEnforce"})
	e.waitIdle(t)
	after := rows()
	for k, tag := range before {
		rewritten := after[k] != tag
		site := k[strings.LastIndex(k[:strings.IndexByte(k, '|')], "/")+1 : strings.IndexByte(k, '|')]
		odd := (site[len(site)-1]-'0')%2 == 1
		if want := strings.Contains(k, "/policyassignments/audit2|") && odd; rewritten != want {
			t.Errorf("%s rewritten = %v, want %v", k, rewritten, want)
		}
	}
	got = stamps()
	for k, ts := range got {
		if strings.HasSuffix(k, "/audit2") && !ts.Equal(t3) {
			t.Errorf("%s at %s, want the change's scan at %s", k, ts, t3)
		}
	}
	if len(got) != 20 {
		t.Errorf("%d states in the window after the change, want 20", len(got))
	}
}

// stamps queries the states at scope (params add to the query) and returns
// their timestamps by "resource name/assignment name".
func (e *env) stamps(t testing.TB, scope string, params url.Values) map[string]time.Time {
	t.Helper()
	if params == nil {
		params = url.Values{}
	}
	params.Set("api-version", "2024-10-01")
	params.Set("$select", "ResourceId, PolicyAssignmentName, Timestamp")
	code, b := e.do(t, http.MethodPost, scope+"/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults?"+params.Encode(), nil)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	var out struct {
		Value []struct {
			ResourceID string    `json:"resourceId"`
			Assignment string    `json:"policyAssignmentName"`
			Timestamp  time.Time `json:"timestamp"`
		} `json:"value"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	got := map[string]time.Time{}
	for _, v := range out.Value {
		got[lastSegment(v.ResourceID)+"/"+v.Assignment] = v.Timestamp
	}
	return got
}
