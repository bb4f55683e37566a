package insights_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/store"
)

// digestEstate is the benchmark estate (n resources, 20 assignments) on
// SQLite with a scanning engine whose clock the test sets. The estate's
// own engine stays its compliance hook (resources written through the
// Cloud are evaluated by it); nothing runs the queued scans, so a state
// changes only by the hook or by the scans the test runs.
type digestEstate struct {
	*benchEstate
	scan  *insights.Engine
	clock atomic.Int64
}

func newDigestEstate(t *testing.T, n int) *digestEstate {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := &digestEstate{benchEstate: newBenchEstateOn(t, st, n)}
	// Now: the estate's hook stamps what it evaluates with the real clock,
	// and a scan leaves states newer than itself.
	d.clock.Store(time.Now().UnixNano())
	d.scan = insights.New(d.c, insights.Options{Clock: func() time.Time { return time.Unix(0, d.clock.Load()).UTC() }})
	d.rescan(t)
	return d
}

func (d *digestEstate) rescan(t *testing.T) {
	t.Helper()
	if err := d.scan.ScanScope(t.Context(), "/subscriptions/"+d.sub); err != nil {
		t.Fatal(err)
	}
}

// id is the ID of the estate's resource i (r000000 is a site in rg000).
func (d *digestEstate) id(i int) string {
	types := []string{"Microsoft.Web/sites", "Microsoft.Compute/virtualMachines", "Microsoft.KeyVault/vaults",
		"Microsoft.Network/publicIPAddresses"}
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/rg%03d/providers/%s/r%06d", d.sub, i%100, types[i%len(types)], i)
}

func (d *digestEstate) policyID(kind, name string) string {
	return fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/%s/%s", d.sub, kind, name)
}

// state is the compliance state of resource i under the assignment
// named, "" when it has none.
func (d *digestEstate) state(t *testing.T, i int, assignment string) string {
	t.Helper()
	return d.stateOf(t, d.id(i), assignment)
}

// stateOf is the compliance state of the resource id under the
// assignment named, "" when it has none.
func (d *digestEstate) stateOf(t *testing.T, resource, assignment string) string {
	t.Helper()
	q := &insights.Query{Top: -1, To: time.Unix(0, d.clock.Load()).Add(time.Hour), Scope: "/subscriptions/" + d.sub}
	page, err := d.scan.Run(t.Context(), q, "/subscriptions/"+d.sub, insights.PageToken{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Rows {
		id, _ := r.Get("resourceid")
		name, _ := r.Get("policyassignmentname")
		if strings.EqualFold(id.(string), resource) && strings.EqualFold(name.(string), assignment) {
			s, _ := r.Get("compliancestate")
			return fmt.Sprint(s)
		}
	}
	return ""
}

// put writes a document through the Cloud (its hook evaluates it).
func (d *digestEstate) put(t *testing.T, id, typ string, doc map[string]any) {
	t.Helper()
	doc["id"], doc["type"], doc["name"] = id, typ, lastSegment(id)
	if _, _, err := d.c.Put(t.Context(), nil, cloud.PutRequest{ID: id, Type: typ, Doc: doc}); err != nil {
		t.Fatalf("put %s: %v", id, err)
	}
}

// define stores a definition with rule and assigns it at the
// subscription as name.
func (d *digestEstate) define(t *testing.T, name string, rule map[string]any) {
	t.Helper()
	def := d.policyID("policyDefinitions", name)
	d.put(t, def, insights.TypeDefinition, map[string]any{"properties": map[string]any{"mode": "All", "policyRule": rule}})
	d.put(t, d.policyID("policyAssignments", name), insights.TypeAssignment, map[string]any{"properties": map[string]any{
		"policyDefinitionId": def, "scope": "/subscriptions/" + d.sub}})
}

// expect fails unless resource i has state want under assignment.
func (d *digestEstate) expect(t *testing.T, i int, assignment, want, when string) {
	t.Helper()
	if got := d.state(t, i, assignment); got != want {
		t.Errorf("%s: r%06d under %s is %q, want %q", when, i, assignment, got, want)
	}
}

// siteTurnsHTTP rewrites site r000000 with httpsOnly false (and another
// location) in the store directly: no hook evaluates it.
func (d *digestEstate) siteTurnsHTTP(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	doc := map[string]any{"id": d.id(0), "type": "Microsoft.Web/sites", "name": "r000000", "location": "westeurope",
		"properties": map[string]any{"httpsOnly": false}}
	v, err := json.Marshal(map[string]any{"id": d.id(0), "type": "Microsoft.Web/sites", "doc": doc})
	if err != nil {
		t.Fatal(err)
	}
	err = d.c.Store().Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, "cloud.resources", strings.ToLower(d.id(0)), v, store.Cond{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRescanSkipsOnlyUnchangedInputs changes each input of an evaluation
// in a way neither the write hook nor an assignment's scan follows, and
// checks that a full scan evaluates the resource again: a digest that
// left the input out would keep the old state.
//
// The estate (benchEstate): resource i is of type i%4 (sites, virtual
// machines, vaults, public IPs), in rg(i%100), untagged when i%5 == 0,
// httpsOnly when i is even, in eastus when i%3 == 2; assignment ak
// applies to type k%4.
func TestRescanSkipsOnlyUnchangedInputs(t *testing.T) {
	d := newDigestEstate(t, 40)
	d.expect(t, 0, "a00", "Compliant", "after the first scan")

	t.Run("resource bytes", func(t *testing.T) {
		d.siteTurnsHTTP(t)
		d.rescan(t)
		d.expect(t, 0, "a00", "NonCompliant", "after its document changed")
	})

	t.Run("assignment parameters", func(t *testing.T) {
		d.expect(t, 5, "a01", "NonCompliant", "before")
		d.put(t, d.policyID("policyAssignments", "a01"), insights.TypeAssignment, map[string]any{"properties": map[string]any{
			"policyDefinitionId": d.policyID("policyDefinitions", "def01"), "scope": "/subscriptions/" + d.sub,
			"parameters": map[string]any{"effect": map[string]any{"value": "Disabled"}}}})
		d.rescan(t)
		d.expect(t, 5, "a01", "", "after the assignment's effect became Disabled")
	})

	t.Run("definition", func(t *testing.T) {
		d.expect(t, 4, "a00", "Compliant", "before")
		d.put(t, d.policyID("policyDefinitions", "def00"), insights.TypeDefinition, map[string]any{"properties": map[string]any{
			"mode": "All", "parameters": map[string]any{"effect": map[string]any{"type": "String", "defaultValue": "Audit"}},
			"policyRule": map[string]any{
				"if": map[string]any{"allOf": []any{
					map[string]any{"field": "type", "equals": "Microsoft.Web/sites"},
					map[string]any{"field": "Microsoft.Web/sites/httpsOnly", "equals": true},
				}},
				"then": map[string]any{"effect": "[parameters('effect')]"}}}})
		d.rescan(t)
		d.expect(t, 4, "a00", "NonCompliant", "after the definition changed")
	})

	t.Run("exemption", func(t *testing.T) {
		d.expect(t, 5, "a05", "NonCompliant", "before")
		d.put(t, fmt.Sprintf("/subscriptions/%s/resourceGroups/rg005/providers/Microsoft.Authorization/policyExemptions/x", d.sub),
			insights.TypeExemption, map[string]any{"properties": map[string]any{
				"policyAssignmentId": d.policyID("policyAssignments", "a05"), "exemptionCategory": "Waiver"}})
		d.rescan(t)
		d.expect(t, 5, "a05", "Exempt", "after the exemption")
	})

	t.Run("exemption expiry", func(t *testing.T) {
		now := time.Unix(0, d.clock.Load()).UTC()
		d.put(t, fmt.Sprintf("/subscriptions/%s/resourceGroups/rg025/providers/Microsoft.Authorization/policyExemptions/y", d.sub),
			insights.TypeExemption, map[string]any{"properties": map[string]any{
				"policyAssignmentId": d.policyID("policyAssignments", "a09"), "exemptionCategory": "Waiver",
				"expiresOn": now.Add(time.Hour).Format(time.RFC3339)}})
		d.rescan(t)
		d.expect(t, 25, "a09", "Exempt", "before the exemption expired")
		d.clock.Store(now.Add(2 * time.Hour).UnixNano())
		d.rescan(t)
		d.expect(t, 25, "a09", "NonCompliant", "after the exemption expired")
	})

	t.Run("resource group tags", func(t *testing.T) {
		d.define(t, "rgtier", map[string]any{
			"if": map[string]any{"allOf": []any{
				map[string]any{"field": "type", "equals": "Microsoft.KeyVault/vaults"},
				map[string]any{"value": "[resourceGroup().tags['tier']]", "equals": "gold"},
			}},
			"then": map[string]any{"effect": "audit"}})
		rg := fmt.Sprintf("/subscriptions/%s/resourceGroups/rg002", d.sub)
		d.put(t, rg, cloud.TypeResourceGroup, map[string]any{"location": "westeurope", "tags": map[string]any{"tier": "silver"}})
		d.rescan(t)
		d.expect(t, 2, "rgtier", "Compliant", "in a silver group")
		d.put(t, rg, cloud.TypeResourceGroup, map[string]any{"location": "westeurope", "tags": map[string]any{"tier": "gold"}})
		d.rescan(t)
		d.expect(t, 2, "rgtier", "NonCompliant", "in a gold group")
	})

	t.Run("utcNow", func(t *testing.T) {
		deadline := time.Unix(0, d.clock.Load()).UTC().Add(24 * time.Hour).Truncate(time.Second)
		d.define(t, "clock", map[string]any{
			"if": map[string]any{"allOf": []any{
				map[string]any{"field": "type", "equals": "Microsoft.Network/publicIPAddresses"},
				map[string]any{"value": "[utcNow()]", "greater": deadline.Format(time.RFC3339)},
			}},
			"then": map[string]any{"effect": "audit"}})
		d.rescan(t)
		d.expect(t, 3, "clock", "Compliant", "before the deadline")
		d.clock.Store(deadline.Add(time.Hour).UnixNano())
		d.rescan(t)
		d.expect(t, 3, "clock", "NonCompliant", "after the deadline")
	})

	t.Run("auditIfNotExists", func(t *testing.T) {
		d.define(t, "aine", map[string]any{
			"if": map[string]any{"field": "type", "equals": "Microsoft.Compute/virtualMachines"},
			"then": map[string]any{"effect": "auditIfNotExists",
				"details": map[string]any{"type": "Microsoft.Compute/virtualMachines/extensions"}}})
		d.rescan(t)
		d.expect(t, 1, "aine", "NonCompliant", "without the extension")
		d.put(t, d.id(1)+"/extensions/agent", "Microsoft.Compute/virtualMachines/extensions", map[string]any{"location": "westeurope"})
		d.rescan(t)
		d.expect(t, 1, "aine", "Compliant", "with the extension")
	})
}

// TestRescanOfUnchangedEstateRewritesNoDigest: a full scan of an estate
// that did not change leaves every digest row as it was (it skipped every
// resource), and the rows cover the estate.
func TestRescanOfUnchangedEstateRewritesNoDigest(t *testing.T) {
	d := newDigestEstate(t, 40)
	rows := func() map[string]string { return tableETags(t, d.c.Store(), "insights.digests") }
	before := rows()
	for i := range 40 {
		if _, ok := before[strings.ToLower(d.id(i))]; !ok {
			t.Errorf("no digest row for r%06d after the first scan", i)
		}
	}
	d.rescan(t)
	if after := rows(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("an unchanged rescan rewrote digest rows:\nbefore %v\nafter  %v", before, after)
	}
	// A write through the Cloud is evaluated by the hook, which drops the
	// resource's row; the next scan makes it again.
	d.put(t, d.id(0), "Microsoft.Web/sites", map[string]any{"location": "westeurope", "properties": map[string]any{"httpsOnly": true}})
	if _, ok := rows()[strings.ToLower(d.id(0))]; ok {
		t.Error("the write hook left the digest row of the resource it evaluated")
	}
	d.clock.Store(time.Now().Add(time.Second).UnixNano()) // after the hook's evaluation
	d.rescan(t)
	if _, ok := rows()[strings.ToLower(d.id(0))]; !ok {
		t.Error("the scan after a hook's evaluation made no digest row")
	}
}

// TestAssignmentScanFollowsItsTypes: an assignment's scan evaluates only
// the types its rule names, yet removes its states from resources of the
// types an earlier version of it named.
func TestAssignmentScanFollowsItsTypes(t *testing.T) {
	d := newDigestEstate(t, 40)
	d.expect(t, 0, "a00", "Compliant", "before") // a site under the https rule
	d.expect(t, 5, "a00", "", "before")          // a virtual machine
	// a00 now assigns the tag rule of virtual machines.
	d.put(t, d.policyID("policyAssignments", "a00"), insights.TypeAssignment, map[string]any{"properties": map[string]any{
		"policyDefinitionId": d.policyID("policyDefinitions", "def01"), "scope": "/subscriptions/" + d.sub}})
	d.clock.Store(time.Now().UnixNano())
	id := d.policyID("policyAssignments", "a00")
	if err := d.scan.ScanAssignment(t.Context(), "/subscriptions/"+d.sub, id); err != nil {
		t.Fatal(err)
	}
	d.expect(t, 0, "a00", "", "after a00 moved to virtual machines")
	d.expect(t, 4, "a00", "", "after a00 moved to virtual machines")
	d.expect(t, 5, "a00", "NonCompliant", "after a00 moved to virtual machines") // untagged
	d.expect(t, 1, "a00", "Compliant", "after a00 moved to virtual machines")
	d.expect(t, 0, "a04", "Compliant", "the other assignments' states stay")
}

// tableETags returns the keys of a store table (its first thousand) with
// their etags, which change on every write.
func tableETags(t *testing.T, st store.Store, table string) map[string]string {
	t.Helper()
	ctx := t.Context()
	out := map[string]string{}
	err := st.View(ctx, func(tx store.Tx) error {
		page, err := tx.Scan(ctx, table, store.Query{Limit: store.MaxPageSize})
		for _, r := range page.Records {
			out[r.Key] = r.ETag
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRescanSkipsWithThePolicyProvider: with the policy provider's
// compiled assignments (how Steward runs), a second scan of an unchanged
// estate matches the digests of the first and rewrites none.
func TestRescanSkipsWithThePolicyProvider(t *testing.T) {
	e := newEnv(t, insights.Options{})
	sub := e.fiveAccounts(t)
	scan := func() map[string]string {
		t.Helper()
		if err := e.engine.ScanScope(t.Context(), sub); err != nil {
			t.Fatal(err)
		}
		return tableETags(t, e.s.Cloud.Store(), "insights.digests")
	}
	first := scan()
	if len(first) < 5 {
		t.Fatalf("%d digest rows after a scan of 5 sites and their group", len(first))
	}
	if second := scan(); fmt.Sprint(second) != fmt.Sprint(first) {
		t.Errorf("the second scan rewrote digest rows:\nfirst  %v\nsecond %v", first, second)
	}
}

// TestAssignmentScanRemovesAcrossPages: the states an earlier version of
// an assignment gave to resource groups go when it names sites instead,
// also for a group whose key ends a page of the scan before its own
// states' keys ("…/rg045|…" sorts after "…/rg045/providers/…|…").
func TestAssignmentScanRemovesAcrossPages(t *testing.T) {
	d := newDigestEstate(t, 2100)
	rule := func(typ string) map[string]any {
		return map[string]any{"if": map[string]any{"field": "type", "equals": typ}, "then": map[string]any{"effect": "audit"}}
	}
	d.define(t, "groups", rule(cloud.TypeResourceGroup))
	d.rescan(t)
	groups := func() int {
		t.Helper()
		f, err := insights.ParseFilter("PolicyAssignmentName eq 'groups'")
		if err != nil {
			t.Fatal(err)
		}
		q := &insights.Query{Top: -1, To: time.Now().Add(time.Hour), Scope: "/subscriptions/" + d.sub, Filter: f}
		page, err := d.scan.Run(t.Context(), q, "/subscriptions/"+d.sub, insights.PageToken{})
		if err != nil {
			t.Fatal(err)
		}
		if page.Next != "" {
			t.Fatal("more than a page of the assignment's states")
		}
		n := 0
		for _, r := range page.Rows {
			name, _ := r.Get("policyassignmentname")
			typ, _ := r.Get("resourcetype")
			if name == "groups" && strings.EqualFold(fmt.Sprint(typ), cloud.TypeResourceGroup) {
				n++
			}
		}
		return n
	}
	if n := groups(); n != 100 {
		t.Fatalf("%d group states of the assignment after the first scan, want 100", n)
	}
	d.define(t, "groups", rule("Microsoft.Web/sites"))
	d.clock.Store(time.Now().UnixNano())
	if err := d.scan.ScanAssignment(t.Context(), "/subscriptions/"+d.sub, d.policyID("policyAssignments", "groups")); err != nil {
		t.Fatal(err)
	}
	if n := groups(); n != 0 {
		t.Errorf("%d group states of the assignment after it moved to sites, want 0", n)
	}
}

// TestAssignmentScanRenewsValidDigests: an assignment's scan renews the
// digest rows of the resources whose only changed input is the assignment,
// so the next full scan skips them, and it renews no other: a site whose
// document changed behind the hook's back before the scan is evaluated
// again by the next full scan (a renewal without the check would keep its
// stale state under another assignment).
func TestAssignmentScanRenewsValidDigests(t *testing.T) {
	d := newDigestEstate(t, 40)
	ctx := t.Context()
	rows := func() map[string]string { return tableETags(t, d.c.Store(), "insights.digests") }
	d.expect(t, 0, "a00", "Compliant", "before") // a site under the https rule
	d.siteTurnsHTTP(t)
	before := rows()
	// a04 (sites) changes its effect; its scan renews the sites' rows.
	id := d.policyID("policyAssignments", "a04")
	d.put(t, id, insights.TypeAssignment, map[string]any{"properties": map[string]any{
		"policyDefinitionId": d.policyID("policyDefinitions", "def04"), "scope": "/subscriptions/" + d.sub,
		"parameters": map[string]any{"effect": map[string]any{"value": "Deny"}}}})
	d.clock.Store(time.Now().UnixNano())
	// The change's hook reloads the policies before it queues the scan,
	// which reloads them again.
	if err := d.scan.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.scan.ScanAssignment(ctx, "/subscriptions/"+d.sub, id); err != nil {
		t.Fatal(err)
	}
	renewed := rows()
	for i := range 40 {
		k := strings.ToLower(d.id(i))
		switch {
		case i == 0:
			// Neither renewed nor left: a row left could match again
			// once the change is reversed.
			if _, ok := renewed[k]; ok {
				t.Errorf("the assignment's scan kept a row of r000000, whose document changed")
			}
		case i%4 == 0:
			if renewed[k] == before[k] {
				t.Errorf("the assignment's scan did not renew the row of site r%06d", i)
			}
		default:
			if renewed[k] != before[k] {
				t.Errorf("the assignment's scan rewrote the row of r%06d, of a type it does not apply to", i)
			}
		}
	}
	d.rescan(t)
	d.expect(t, 0, "a00", "NonCompliant", "after the full scan")
	after := rows()
	for i := range 40 {
		k := strings.ToLower(d.id(i))
		if i == 0 {
			if after[k] == renewed[k] {
				t.Error("the full scan did not evaluate r000000 again")
			}
		} else if after[k] != renewed[k] {
			t.Errorf("the full scan after the assignment's scan rewrote the row of r%06d", i)
		}
	}
}

// TestAssignmentScanKeepsStatesOfUnlistedResourcesOfItsTypes: a resource
// of the assignment's types that its scan did not list (here: missing from
// the type index, as one written after the listing passed it is) keeps the
// state the hook gave it; only resources of other types, or no longer
// stored, lose the assignment's states.
func TestAssignmentScanKeepsStatesOfUnlistedResourcesOfItsTypes(t *testing.T) {
	d := newDigestEstate(t, 40)
	ctx := t.Context()
	site := fmt.Sprintf("/subscriptions/%s/resourceGroups/rg000/providers/Microsoft.Web/sites/late", d.sub)
	d.put(t, site, "Microsoft.Web/sites", map[string]any{"location": "westeurope", "properties": map[string]any{"httpsOnly": true}})
	err := d.c.Store().Update(ctx, func(tx store.Tx) error {
		return tx.Delete(ctx, "cloud.types", strings.ToLower("Microsoft.Web/sites|"+site), store.Cond{})
	})
	if err != nil {
		t.Fatal(err)
	}
	state := func() string { t.Helper(); return d.stateOf(t, site, "a00") }
	if s := state(); s != "Compliant" {
		t.Fatalf("the hook gave the late site %q under a00, want Compliant", s)
	}
	d.clock.Store(time.Now().UnixNano())
	if err := d.scan.ScanAssignment(ctx, "/subscriptions/"+d.sub, d.policyID("policyAssignments", "a00")); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != "Compliant" {
		t.Errorf("after a00's scan the late site is %q under a00, want Compliant (kept)", s)
	}
	d.expect(t, 0, "a00", "Compliant", "after a00's scan")
}

// TestListStoredByTypeAndGetStored: the listing an assignment's scan uses
// pages through one type of a scope in key order, and GetStored reads the
// resources given, leaving out those not stored.
func TestListStoredByTypeAndGetStored(t *testing.T) {
	d := newDigestEstate(t, 40)
	ctx := t.Context()
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		recs, next, err := d.c.ListStored(ctx, cloud.ListQuery{Scope: "/subscriptions/" + d.sub, Type: "microsoft.web/SITES", Limit: 3, After: after})
		if err != nil || pages > 10 {
			t.Fatalf("page %d: %v", pages, err)
		}
		for _, r := range recs {
			if r.Type() != "Microsoft.Web/sites" {
				t.Errorf("listed %s of type %s", r.Key, r.Type())
			}
			got = append(got, r.Key)
		}
		if next == "" {
			break
		}
		after = next
	}
	var want []string
	for i := 0; i < 40; i += 4 {
		want = append(want, strings.ToLower(d.id(i)))
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("sites listed:\n%v\nwant\n%v", got, want)
	}
	recs, err := d.c.GetStored(ctx, []string{d.id(5), d.id(0) + "x", d.id(0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Key != strings.ToLower(d.id(0)) || recs[1].Key != strings.ToLower(d.id(5)) {
		t.Errorf("GetStored = %v, want r000000 and r000005 in key order", recs)
	}
}

// fiveAccounts stores group a, an https audit at the subscription and
// five storage accounts in a, every other one https-only, and returns
// the subscription's ID.
func (e *env) fiveAccounts(t *testing.T) string {
	t.Helper()
	sub := "/subscriptions/" + e.sub
	e.put(t, e.rg("a"), "2021-04-01", map[string]any{"location": "westeurope"})
	e.assign(t, sub, "audit", e.httpsDefinition(t, "secure-transfer"), nil)
	e.waitIdle(t)
	for i := range 5 {
		e.storage(t, "a", fmt.Sprintf("sa%d", i), i%2 == 0)
	}
	return sub
}
