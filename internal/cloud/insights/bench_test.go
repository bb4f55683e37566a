package insights_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// benchResources is the estate size of the compliance benchmarks. The
// default keeps CI quick; the figure of docs/benchmarks/compliance.md is
// -compliance.resources=100000.
var benchResources = flag.Int("compliance.resources", 2000, "resources in the compliance benchmarks")

// benchStore is the backend of the compliance benchmarks: "sqlite" (a
// temporary file) or "postgres" (a throwaway schema in the database of
// STEWARD_TEST_POSTGRES).
var benchStore = flag.String("compliance.store", "sqlite", "backend of the compliance benchmarks: sqlite or postgres")

const benchAssignments = 20

// benchEstate is a Cloud on SQLite holding n resources in 100 resource
// groups and 20 assignments of 20 definitions at the subscription, with an
// Engine that has not evaluated anything yet.
type benchEstate struct {
	c      *cloud.Cloud
	engine *insights.Engine
	sub    string
	n      int
}

func newBenchEstate(b testing.TB, n int) *benchEstate {
	b.Helper()
	ctx := context.Background()
	var st store.Store
	switch *benchStore {
	case "sqlite":
		var err error
		if st, err = store.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "steward.db")); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
	case "postgres":
		st = storetest.Postgres(b)
	default:
		b.Fatalf("-compliance.store=%q: want sqlite or postgres", *benchStore)
	}
	return newBenchEstateOn(b, st, n)
}

// newBenchEstateOn builds the benchmark estate in st.
func newBenchEstateOn(b testing.TB, st store.Store, n int) *benchEstate {
	b.Helper()
	ctx := context.Background()
	c, err := cloud.New(cloud.Options{Store: st, TenantID: "11111111-1111-1111-1111-111111111111",
		Authenticate: func(h http.Handler) http.Handler { return h }})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		b.Fatal(err)
	}
	sub := "22222222-2222-2222-2222-222222222222"
	if _, _, err := c.CreateSubscription(ctx, nil, cloud.Subscription{ID: sub, DisplayName: "bench"}); err != nil {
		b.Fatal(err)
	}
	put := func(id, typ string, doc map[string]any) {
		doc["id"], doc["type"], doc["name"] = id, typ, lastSegment(id)
		if _, _, err := c.Put(ctx, nil, cloud.PutRequest{ID: id, Type: typ, Doc: doc}); err != nil {
			b.Fatalf("put %s: %v", id, err)
		}
	}
	const groups = 100
	for g := range groups {
		id := fmt.Sprintf("/subscriptions/%s/resourceGroups/rg%03d", sub, g)
		put(id, cloud.TypeResourceGroup, map[string]any{"location": "westeurope"})
	}
	types := benchTypes
	locations := []string{"westeurope", "northeurope", "eastus"}
	var docs, index []store.Entry
	for i := range n {
		typ, id := types[i%len(types)], benchResourceID(sub, i)
		tags := map[string]any{"env": "prod"}
		if i%5 == 0 {
			tags = map[string]any{}
		}
		doc := map[string]any{"id": id, "type": typ, "name": lastSegment(id), "location": locations[i%len(locations)], "tags": tags,
			"properties": map[string]any{"httpsOnly": i%2 == 0, "minimumTlsVersion": "TLS1_2",
				"enableSoftDelete": i%7 != 0, "publicNetworkAccess": "Disabled"}}
		// In the order the Cloud writes them (id, type, doc).
		v, err := json.Marshal(struct {
			ID   string         `json:"id"`
			Type string         `json:"type"`
			Doc  map[string]any `json:"doc"`
		}{id, typ, doc})
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, store.Entry{Key: strings.ToLower(id), Value: v})
		index = append(index, store.Entry{Key: strings.ToLower(typ + "|" + id), Value: []byte("1")})
	}
	seedResources(b, st, docs, index)
	for k := range benchAssignments {
		def := fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/policyDefinitions/def%02d", sub, k)
		put(def, insights.TypeDefinition, map[string]any{"properties": benchDefinition(k, types)})
		put(fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/policyAssignments/a%02d", sub, k),
			insights.TypeAssignment, map[string]any{"properties": map[string]any{"policyDefinitionId": def,
				"scope": "/subscriptions/" + sub, "parameters": map[string]any{"effect": map[string]any{"value": "Audit"}}}})
	}
	eng := insights.New(c, insights.Options{})
	if err := eng.Mount(); err != nil {
		b.Fatal(err)
	}
	return &benchEstate{c: c, engine: eng, sub: sub, n: n}
}

// benchTypes are the resource types of the benchmark estate, in turn.
var benchTypes = []string{"Microsoft.Web/sites", "Microsoft.Compute/virtualMachines", "Microsoft.KeyVault/vaults",
	"Microsoft.Network/publicIPAddresses"}

// benchResourceID is the ID of the benchmark estate's i-th resource, in
// one of its 100 resource groups.
func benchResourceID(sub string, i int) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/rg%03d/providers/%s/r%06d", sub, i%100, benchTypes[i%len(benchTypes)], i)
}

// seedResources stores resource documents and their type index entries
// directly, in large transactions: the benchmark estate would otherwise
// take most of ten minutes to write through the pipeline at the issue's
// size. It writes the Cloud's storage layout (cloud.resources keyed by the
// lower-case ID holding {id, type, doc}; cloud.types keyed
// "{type}|{id}"), which TestBenchmarkEstateIsCompliantAfterScan checks by
// reading the estate back through the Cloud.
func seedResources(b testing.TB, st store.Store, docs, index []store.Entry) {
	b.Helper()
	ctx := context.Background()
	for len(docs) > 0 {
		n := min(len(docs), 10000)
		err := st.Update(ctx, func(tx store.Tx) error {
			if err := store.PutMany(ctx, tx, "cloud.resources", docs[:n]); err != nil {
				return err
			}
			return store.PutMany(ctx, tx, "cloud.types", index[:n])
		})
		if err != nil {
			b.Fatal(err)
		}
		docs, index = docs[n:], index[n:]
	}
}

// benchDefinition is one of 20 audit policies: per resource type, a
// property check, a tag requirement or an allowed-locations list.
func benchDefinition(k int, types []string) map[string]any {
	typ := types[k%len(types)]
	var cond map[string]any
	switch k % 4 {
	case 0:
		cond = map[string]any{"field": typ + "/httpsOnly", "notEquals": true}
	case 1:
		cond = map[string]any{"field": "tags['env']", "exists": false}
	case 2:
		cond = map[string]any{"field": "location", "notIn": []any{"westeurope", "northeurope"}}
	default:
		cond = map[string]any{"anyOf": []any{
			map[string]any{"field": typ + "/enableSoftDelete", "equals": false},
			map[string]any{"field": typ + "/publicNetworkAccess", "notEquals": "Disabled"},
		}}
	}
	return map[string]any{"mode": "All",
		"parameters": map[string]any{"effect": map[string]any{"type": "String", "defaultValue": "Audit"}},
		"policyRule": map[string]any{
			"if":   map[string]any{"allOf": []any{map[string]any{"field": "type", "equals": typ}, cond}},
			"then": map[string]any{"effect": "[parameters('effect')]"},
		}}
}

// peakHeap samples the heap in use while fn runs and returns its maximum.
func peakHeap(fn func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	return peak.Load()
}

// cpuSeconds is the CPU time (user and system) the process has used: on a
// shared machine whose load average is many times its core count, the wall
// time says more about the neighbours than about the scan.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkComplianceScan is a full scan of the subscription: every
// resource against 20 assignments, states written to SQLite.
func BenchmarkComplianceScan(b *testing.B) {
	measureScans(b, newBenchEstate(b, *benchResources))
}

// BenchmarkComplianceRescan is a full scan of an estate a scan has
// already evaluated, as the periodic cycle and triggerEvaluation run it:
// nothing changed, so no state is rewritten (the scan's coverage record
// renews their timestamps).
func BenchmarkComplianceRescan(b *testing.B) {
	est := newBenchEstate(b, *benchResources)
	// The first scan, which writes every state, is reported too: one
	// estate then gives both figures.
	cpu0, wall0 := cpuSeconds(), time.Now()
	if err := est.engine.ScanScope(context.Background(), "/subscriptions/"+est.sub); err != nil {
		b.Fatal(err)
	}
	first, firstWall := cpuSeconds()-cpu0, time.Since(wall0).Seconds()
	measureScans(b, est)
	b.ReportMetric(first, "first-scan-cpu-s")
	b.ReportMetric(firstWall, "first-scan-s")
	// A new engine over the same store, as after a restart or on another
	// replica: nothing cached, the digests of the first engine trusted.
	b.StopTimer()
	restarted := insights.New(est.c, insights.Options{})
	cpu0, wall0 = cpuSeconds(), time.Now()
	if err := restarted.ScanScope(context.Background(), "/subscriptions/"+est.sub); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(cpuSeconds()-cpu0, "restart-scan-cpu-s")
	b.ReportMetric(time.Since(wall0).Seconds(), "restart-scan-s")
}

// measureScans times b.N full scans of the estate's subscription and
// reports their CPU time, throughput and peak heap.
func measureScans(b *testing.B, est *benchEstate) {
	ctx := context.Background()
	b.ResetTimer()
	var peak uint64
	cpu0 := cpuSeconds()
	for range b.N {
		peak = max(peak, peakHeap(func() {
			if err := est.engine.ScanScope(ctx, "/subscriptions/"+est.sub); err != nil {
				b.Fatal(err)
			}
		}))
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(est.n)/secs, "resources/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkComplianceAfterAssignmentChange changes one assignment's
// effect and measures the time until the background scan has brought
// every state up to date (the scan the change queues, run by the worker).
func BenchmarkComplianceAfterAssignmentChange(b *testing.B) {
	est := newBenchEstate(b, *benchResources)
	id := fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/policyAssignments/a00", est.sub)
	def := fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/policyDefinitions/def00", est.sub)
	measureChange(b, est, func(i int) {
		effect := []string{"Deny", "Audit"}[i%2]
		doc := map[string]any{"id": id, "type": insights.TypeAssignment, "name": "a00", "properties": map[string]any{
			"policyDefinitionId": def, "scope": "/subscriptions/" + est.sub, "enforcementMode": "DoNotEnforce",
			"parameters": map[string]any{"effect": map[string]any{"value": effect}}}}
		if _, _, err := est.c.Put(context.Background(), nil, cloud.PutRequest{ID: id, Type: insights.TypeAssignment, Doc: doc}); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkComplianceAfterDefinitionChange changes the rule of the
// definition one assignment uses, so that every resource of its type
// turns from compliant to not (or back), and measures the time until
// the scans the change queues have brought every state up to date.
func BenchmarkComplianceAfterDefinitionChange(b *testing.B) {
	est := newBenchEstate(b, *benchResources)
	def := fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/policyDefinitions/def00", est.sub)
	measureChange(b, est, func(i int) {
		doc := map[string]any{"id": def, "type": insights.TypeDefinition, "name": "def00", "properties": benchDefinition(0, benchTypes)}
		if i%2 == 0 {
			// httpsOnly must now be false: the compliant sites turn
			// non-compliant and the others compliant.
			rule := doc["properties"].(map[string]any)["policyRule"].(map[string]any)
			rule["if"].(map[string]any)["allOf"].([]any)[1] = map[string]any{"field": benchTypes[0] + "/httpsOnly", "equals": true}
		}
		if _, _, err := est.c.Put(context.Background(), nil, cloud.PutRequest{ID: def, Type: insights.TypeDefinition, Doc: doc}); err != nil {
			b.Fatal(err)
		}
	})
}

// measureChange scans the estate, then b.N times makes a policy change
// and runs the scans it queued, and reports the time to compliance and
// the cost of the next full scan.
func measureChange(b *testing.B, est *benchEstate, change func(i int)) {
	ctx := context.Background()
	if err := est.engine.ScanScope(ctx, "/subscriptions/"+est.sub); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var peak uint64
	cpu0 := cpuSeconds()
	for i := range b.N {
		peak = max(peak, peakHeap(func() {
			change(i)
			for est.engine.RunPending(ctx) > 0 {
			}
		}))
	}
	b.StopTimer()
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s-to-compliance")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	// The next full scan (the daily cycle) after the change: the
	// change's scans renewed the digests they could, so it skips what
	// they left valid.
	cpu0, wall0 := cpuSeconds(), time.Now()
	if err := est.engine.ScanScope(ctx, "/subscriptions/"+est.sub); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(cpuSeconds()-cpu0, "next-scan-cpu-s")
	b.ReportMetric(time.Since(wall0).Seconds(), "next-scan-s")
}

// TestBenchmarkEstateIsCompliantAfterScan checks the benchmark measures
// what it says: after a scan every resource has its states.
func TestBenchmarkEstateIsCompliantAfterScan(t *testing.T) {
	est := newBenchEstate(t, 40)
	ctx := context.Background()
	// The directly seeded resources read back through the Cloud.
	id := fmt.Sprintf("/subscriptions/%s/resourceGroups/rg004/providers/Microsoft.Web/sites/r000004", est.sub)
	r, err := est.c.Get(ctx, id)
	if err != nil || r.Type != "Microsoft.Web/sites" || r.Doc["location"] != "northeurope" {
		t.Fatalf("seeded resource read back as %+v (%v)", r, err)
	}
	list, _, err := est.c.List(ctx, cloud.ListQuery{Scope: "/subscriptions/" + est.sub + "/resourceGroups/rg004", Type: "Microsoft.Web/sites", Limit: 100})
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("type listing of rg004 = %d resources (%v), want %s", len(list), err, id)
	}
	if err := est.engine.ScanScope(ctx, "/subscriptions/"+est.sub); err != nil {
		t.Fatal(err)
	}
	q := &insights.Query{Top: -1, To: time.Now().Add(time.Hour), Scope: "/subscriptions/" + est.sub}
	page, err := est.engine.Run(ctx, q, "/subscriptions/"+est.sub, insights.PageToken{})
	if err != nil {
		t.Fatal(err)
	}
	// 40 resources of 4 types, 5 definitions per type: 200 states; no
	// definition applies to the resource groups.
	if len(page.Rows) != 200 {
		t.Errorf("%d states after the scan, want 200", len(page.Rows))
	}
	// Without one assignment, a rescan drops its states (10 resources of
	// the first type).
	id = fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/policyAssignments/a00", est.sub)
	if _, _, err := est.c.Delete(ctx, nil, cloud.DeleteRequest{ID: id}); err != nil {
		t.Fatal(err)
	}
	for est.engine.RunPending(ctx) > 0 {
	}
	page, err = est.engine.Run(ctx, q, "/subscriptions/"+est.sub, insights.PageToken{})
	if err != nil || len(page.Rows) != 190 {
		t.Errorf("%d states after the assignment went, want 190 (%v)", len(page.Rows), err)
	}
}

// BenchmarkWriteHook is the compliance hook's cost on one write: the
// written resource evaluated against the 20 assignments and its states
// replaced, on the request's goroutine after commit.
func BenchmarkWriteHook(b *testing.B) {
	est := newBenchEstate(b, 100)
	ctx := context.Background()
	id := fmt.Sprintf("/subscriptions/%s/resourceGroups/rg000/providers/Microsoft.Web/sites/r000000", est.sub)
	r, err := est.c.Get(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	ch := cloud.Change{Operation: cloud.OpWrite, ID: id, Type: r.Type, Document: r.Doc}
	est.engine.AfterCommit(ctx, ch)
	b.ResetTimer()
	for range b.N {
		est.engine.AfterCommit(ctx, ch)
	}
}

// BenchmarkSummarize is Policy Insights' latest summarize of a scanned
// estate's subscription, as the console overview calls it: every state
// of the subscription (benchResources x 5 states) rolled up per resource,
// assignment, definition and group. The first summarize after the scan
// (read from the store) is reported apart as first-cpu-s; the timed ones
// follow it with the estate unchanged.
func BenchmarkSummarize(b *testing.B) {
	est := newBenchEstate(b, *benchResources)
	ctx := context.Background()
	scope := "/subscriptions/" + est.sub
	if err := est.engine.ScanScope(ctx, scope); err != nil {
		b.Fatal(err)
	}
	summarize := func() {
		now := time.Now()
		q := &insights.Query{Latest: true, Top: -1, From: now.Add(-24 * time.Hour), To: now, Scope: scope}
		s, err := est.engine.Summarize(ctx, q, strings.ToLower(scope), "https://steward.test", "2019-10-01")
		if err != nil {
			b.Fatal(err)
		}
		if len(s.PolicyAssignments) != benchAssignments {
			b.Fatalf("%d assignments summarized, want %d", len(s.PolicyAssignments), benchAssignments)
		}
	}
	cpu0 := cpuSeconds()
	summarize()
	first := cpuSeconds() - cpu0
	b.ResetTimer()
	cpu0 = cpuSeconds()
	for range b.N {
		summarize()
	}
	b.StopTimer()
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	b.ReportMetric(first, "first-cpu-s")
	// And queryResults of one assignment's non-compliant states, the
	// first page of $top=100, as the console's drill-down asks it.
	f, err := insights.ParseFilter(fmt.Sprintf("IsCompliant eq false and PolicyAssignmentId eq '%s/providers/microsoft.authorization/policyassignments/a07'", scope))
	if err != nil {
		b.Fatal(err)
	}
	cpu0 = cpuSeconds()
	const queries = 5
	for range queries {
		now := time.Now()
		q := &insights.Query{Latest: true, Top: 100, From: now.Add(-24 * time.Hour), To: now, Scope: scope, Filter: f}
		page, err := est.engine.Run(ctx, q, strings.ToLower(scope), insights.PageToken{})
		if err != nil || len(page.Rows) != 100 {
			b.Fatalf("assignment query: %d rows (%v), want 100", len(page.Rows), err)
		}
	}
	b.ReportMetric((cpuSeconds()-cpu0)/queries, "query-cpu-s")
	// And summaries after writes: of one resource through the write hook
	// (its states evaluated again; three in turn), and of 1,000
	// resources' states in one bulk load (each resource's five states
	// replaced by one). Only the summary's CPU counts.
	reads := est.engine.ScopeReads()
	after := func(write func()) float64 {
		write()
		cpu0 := cpuSeconds()
		summarize()
		return cpuSeconds() - cpu0
	}
	var one float64
	for k := range 3 {
		one += after(func() {
			id := benchResourceID(est.sub, 1+4*k) // a virtual machine tagged env=prod
			r, err := est.c.Get(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			r.Doc["tags"] = map[string]any{}
			if _, _, err := est.c.Put(ctx, nil, cloud.PutRequest{ID: id, Type: r.Type, Doc: r.Doc}); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.ReportMetric(one/3, "after-write-cpu-s")
	bulk := after(func() {
		var states []*insights.State
		for i := range min(1000, est.n) {
			states = append(states, &insights.State{Timestamp: time.Now(), ResourceID: benchResourceID(est.sub, i),
				ResourceType: benchTypes[i%len(benchTypes)], Location: "eastus", State: policy.StateNonCompliant, Effect: "audit",
				AssignmentID: scope + "/providers/Microsoft.Authorization/policyAssignments/a03",
				DefinitionID: scope + "/providers/Microsoft.Authorization/policyDefinitions/def03"})
		}
		if err := est.engine.LoadStates(ctx, states); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(bulk, "after-load-cpu-s")
	// Reads of the store for the summaries after the writes (0: each
	// was answered from the cache with the writes applied).
	b.ReportMetric(float64(est.engine.ScopeReads()-reads), "rereads")
}

// twoReplicas is the benchmark estate of n resources on a PostgreSQL
// schema, scanned by its engine (replica A), and a second Cloud with an
// engine of its own on another connection to the schema (replica B).
func twoReplicas(tb testing.TB, n int) (*benchEstate, *cloud.Cloud) {
	tb.Helper()
	url := storetest.PostgresSchema(tb)
	ctx := context.Background()
	open := func() store.Store {
		st, err := store.Open(ctx, url)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { st.Close() })
		return st
	}
	est := newBenchEstateOn(tb, open(), n)
	if err := est.engine.ScanScope(ctx, "/subscriptions/"+est.sub); err != nil {
		tb.Fatal(err)
	}
	c2, err := cloud.New(cloud.Options{Store: open(), TenantID: "11111111-1111-1111-1111-111111111111",
		Authenticate: func(h http.Handler) http.Handler { return h }})
	if err != nil {
		tb.Fatal(err)
	}
	if err := c2.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := insights.New(c2, insights.Options{}).Mount(); err != nil {
		tb.Fatal(err)
	}
	return est, c2
}

// BenchmarkSummarizeAfterOtherReplicasWrite: two replicas on one
// PostgreSQL schema (in this process). Replica A has summarized the
// subscription; replica B writes one resource (its write hook evaluates
// it), and after a pause for B's note to reach A, A summarizes again.
// Reports A's summary CPU after each write (`after-write-cpu-s`, the
// process's CPU during A's summarize call only) and the reads of the
// whole scope A made for them (`rereads`).
func BenchmarkSummarizeAfterOtherReplicasWrite(b *testing.B) {
	est, c2 := twoReplicas(b, *benchResources)
	ctx := context.Background()
	scope := "/subscriptions/" + est.sub
	summarize := func() {
		now := time.Now()
		q := &insights.Query{Latest: true, Top: -1, From: now.Add(-24 * time.Hour), To: now.Add(time.Minute), Scope: scope}
		if _, err := est.engine.Summarize(ctx, q, strings.ToLower(scope), "https://steward.test", "2019-10-01"); err != nil {
			b.Fatal(err)
		}
	}
	summarize()
	reads := est.engine.ScopeReads()
	var cpu float64
	b.ResetTimer()
	for i := range b.N {
		id := benchResourceID(est.sub, 1+4*(i%(est.n/4)))
		r, err := c2.Get(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Doc["tags"].(map[string]any)) == 0 {
			r.Doc["tags"] = map[string]any{"env": "prod"}
		} else {
			r.Doc["tags"] = map[string]any{}
		}
		if _, _, err := c2.Put(ctx, nil, cloud.PutRequest{ID: id, Type: r.Type, Doc: r.Doc}); err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Second) // B's note reaches A
		cpu0 := cpuSeconds()
		summarize()
		cpu += cpuSeconds() - cpu0
	}
	b.StopTimer()
	b.ReportMetric(cpu/float64(b.N), "after-write-cpu-s")
	b.ReportMetric(float64(est.engine.ScopeReads()-reads), "rereads")
}
