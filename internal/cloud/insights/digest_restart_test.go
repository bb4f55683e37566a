package insights_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/store"
)

// TestDigestsHoldAcrossARestart: Steward's data reopened by a new server,
// policy provider and engine (as after a restart, or on another replica
// of the same build) trusts the digests the first one wrote: its full
// scan of the unchanged estate evaluates nothing and rewrites no row.
func TestDigestsHoldAcrossARestart(t *testing.T) {
	dir := t.TempDir()
	e, closeFirst := openEnv(t, dir, insights.Options{})
	sub := e.fiveAccounts(t)
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

// TestAssignmentScanDropsTheRowsItCannotRenew: the gens are drawn from
// the policies' documents, so a change and its reversal give the same
// digests again. An assignment's scan that rewrites a resource's states
// without renewing its row (another assignment of its type changed too)
// must drop the row: otherwise, once both changes are reversed, the row
// of before would match again and a full scan would keep the states the
// first change gave.
func TestAssignmentScanDropsTheRowsItCannotRenew(t *testing.T) {
	d := newDigestEstate(t, 40)
	// The documents are written to the store directly: through the Cloud,
	// systemData's lastModifiedAt makes every write's bytes new.
	assign := func(name, def, effect string) {
		t.Helper()
		id := d.policyID("policyAssignments", name)
		doc := map[string]any{"id": id, "type": insights.TypeAssignment, "name": name, "properties": map[string]any{
			"policyDefinitionId": d.policyID("policyDefinitions", def), "scope": "/subscriptions/" + d.sub,
			"parameters": map[string]any{"effect": map[string]any{"value": effect}}}}
		v, err := json.Marshal(map[string]any{"id": id, "type": insights.TypeAssignment, "doc": doc})
		if err != nil {
			t.Fatal(err)
		}
		err = d.c.Store().Update(t.Context(), func(tx store.Tx) error {
			_, err := tx.Put(t.Context(), "cloud.resources", strings.ToLower(id), v, store.Cond{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	assign("a00", "def00", "Audit") // the documents of before, without systemData
	assign("a04", "def04", "Audit")
	d.rescan(t)
	d.expect(t, 0, "a00", "Compliant", "before") // a site; a00 and a04 both apply to sites
	// a04 changes (its scan has not run), then a00, whose scan runs.
	assign("a04", "def04", "Disabled")
	assign("a00", "def00", "Disabled")
	if err := d.scan.ScanAssignment(t.Context(), "/subscriptions/"+d.sub, d.policyID("policyAssignments", "a00")); err != nil {
		t.Fatal(err)
	}
	d.expect(t, 0, "a00", "", "after a00 was disabled")
	// Both changes are reversed; the full scan comes before a00's own.
	assign("a04", "def04", "Audit")
	assign("a00", "def00", "Audit")
	d.rescan(t)
	d.expect(t, 0, "a00", "Compliant", "after both changes were reversed")
}

// TestFullScanSweepsStatesOfResourcesGone: a resource removed without
// its delete hook (here: from the store directly) loses its states at the
// next full scan; the first scan of a scope, which finds no states, has
// nothing to sweep and skips the key read.
func TestFullScanSweepsStatesOfResourcesGone(t *testing.T) {
	d := newDigestEstate(t, 40)
	d.expect(t, 0, "a00", "Compliant", "before")
	err := d.c.Store().Update(t.Context(), func(tx store.Tx) error {
		return tx.Delete(t.Context(), "cloud.resources", strings.ToLower(d.id(0)), store.Cond{})
	})
	if err != nil {
		t.Fatal(err)
	}
	d.rescan(t)
	d.expect(t, 0, "a00", "", "after the resource went")
	d.expect(t, 4, "a00", "Compliant", "another site")
}
