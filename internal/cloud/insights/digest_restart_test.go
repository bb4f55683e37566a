package insights_test

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/policy"
)

// TestDigestsHoldAcrossARestart: Steward's data reopened by a new server,
// policy provider and engine (as after a restart, or on another replica
// of the same build) trusts the digests the first one wrote: its full
// scan of the unchanged estate evaluates nothing and rewrites no row.
func TestDigestsHoldAcrossARestart(t *testing.T) {
	dir := t.TempDir()
	e, closeFirst := openEnv(t, dir, insights.Options{})
	sub := "/subscriptions/" + e.sub
	e.put(t, e.rg("a"), "2021-04-01", map[string]any{"location": "westeurope"})
	e.assign(t, sub, "audit", e.httpsDefinition(t, "secure-transfer"), nil)
	e.waitIdle(t)
	for i := range 5 {
		e.storage(t, "a", fmt.Sprintf("sa%d", i), i%2 == 0)
	}
	e.waitIdle(t)
	if err := e.engine.ScanScope(t.Context(), sub); err != nil {
		t.Fatal(err)
	}
	first := tableETags(t, e.s.Cloud.Store(), "insights.digests")
	if len(first) < 5 {
		t.Fatalf("%d digest rows after a scan of 5 accounts and their group", len(first))
	}
	closeFirst()

	again, closeAgain := openEnv(t, dir, insights.Options{})
	defer closeAgain()
	again.waitIdle(t)
	if err := again.engine.ScanScope(t.Context(), sub); err != nil {
		t.Fatal(err)
	}
	if second := tableETags(t, again.s.Cloud.Store(), "insights.digests"); !maps.Equal(first, second) {
		t.Errorf("the scan after a restart re-evaluated resources:\nbefore %v\nafter  %v", first, second)
	}
	// The states are still there, and a change is still seen.
	again.storage(t, "a", "sa1", true)
	again.waitIdle(t)
	if err := again.engine.ScanScope(t.Context(), sub); err != nil {
		t.Fatal(err)
	}
	third := tableETags(t, again.s.Cloud.Store(), "insights.digests")
	changed := 0
	for k, v := range first {
		if third[k] != v {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("after one account changed, %d digest rows changed; want 1:\nbefore %v\nafter  %v", changed, first, third)
	}
}

// TestDigestsOfAnotherAliasTableAreNotTrusted: an engine over the same
// store with the same policies trusts the rows, one with another alias
// table (which may resolve the rules' fields otherwise) evaluates every
// resource again.
func TestDigestsOfAnotherAliasTableAreNotTrusted(t *testing.T) {
	d := newDigestEstate(t, 40)
	rows := func() map[string]string { return tableETags(t, d.c.Store(), "insights.digests") }
	scanWith := func(opts insights.Options) {
		t.Helper()
		opts.Clock = func() time.Time { return time.Unix(0, d.clock.Load()).UTC() }
		if err := insights.New(d.c, opts).ScanScope(t.Context(), "/subscriptions/"+d.sub); err != nil {
			t.Fatal(err)
		}
	}
	before := rows()
	scanWith(insights.Options{})
	if after := rows(); !maps.Equal(before, after) {
		t.Errorf("another engine of the same build and policies re-evaluated resources:\nbefore %v\nafter  %v", before, after)
	}
	aliases := policy.Layer(nil)
	aliases.Add(&policy.Alias{Name: "Microsoft.Web/sites/extra", DefaultPath: "properties.extra"})
	scanWith(insights.Options{Aliases: aliases})
	after := rows()
	for k, v := range before {
		if after[k] == v {
			t.Errorf("the row of %s was trusted under another alias table", k)
		}
	}
}
