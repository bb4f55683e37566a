package insights_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/policy"
)

// bruteCounts is what a summary must say, counted from every state that
// queryResults returns with $expand (which reads the store, not the
// query cache): per assignment ("" for the whole scope), the roll-up of
// each resource and of each policy (assignment x reference).
type bruteCounts map[string]map[string]int

func bruteForce(t *testing.T, est *benchEstate, q *insights.Query) (resources, policies bruteCounts) {
	t.Helper()
	ctx := context.Background()
	full := *q
	full.Expand = true
	byRes := map[string]map[string][]policy.ComplianceState{} // assignment -> resource -> states
	byPol := map[string]map[string][]policy.ComplianceState{} // assignment -> policy -> states
	add := func(m map[string]map[string][]policy.ComplianceState, a, k string, st policy.ComplianceState) {
		if m[a] == nil {
			m[a] = map[string][]policy.ComplianceState{}
		}
		m[a][k] = append(m[a][k], st)
	}
	tok := insights.PageToken{}
	for {
		page, err := est.engine.Run(ctx, &full, strings.ToLower(q.Scope), tok)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rows {
			get := func(f string) string { v, _ := r.Get(f); return fmt.Sprint(v) }
			a, res := strings.ToLower(get("policyassignmentid")), strings.ToLower(get("resourceid"))
			pol := a + "|" + strings.ToLower(get("policydefinitionreferenceid"))
			st := policy.ComplianceState(get("compliancestate"))
			for _, scope := range []string{"", a} {
				add(byRes, scope, res, st)
				add(byPol, scope, pol, st)
			}
		}
		if page.Next == "" {
			break
		}
		tok = insights.PageToken{}
		if err := json.Unmarshal([]byte(page.Next), &tok); err != nil {
			t.Fatalf("page token %q: %v", page.Next, err)
		}
	}
	roll := func(m map[string]map[string][]policy.ComplianceState) bruteCounts {
		out := bruteCounts{}
		for a, keys := range m {
			out[a] = map[string]int{}
			for _, states := range keys {
				if st := policy.Rollup(states...); st != policy.StateNotStarted {
					out[a][strings.ToLower(string(st))]++
				}
			}
		}
		return out
	}
	return roll(byRes), roll(byPol)
}

func detailCounts(ds []insights.ComplianceDetail) map[string]int {
	out := map[string]int{}
	for _, d := range ds {
		out[d.ComplianceState] = d.Count
	}
	return out
}

// checkSummary compares a summary with the brute-force counts.
func checkSummary(t *testing.T, est *benchEstate, q *insights.Query, when string) *insights.Summary {
	t.Helper()
	s, diffs := summaryDiffs(t, est, q)
	for _, d := range diffs {
		t.Errorf("%s: %s", when, d)
	}
	return s
}

// summaryDiffs summarizes and says where the summary and the
// brute-force counts differ.
func summaryDiffs(t *testing.T, est *benchEstate, q *insights.Query) (*insights.Summary, []string) {
	t.Helper()
	s, err := est.engine.Summarize(context.Background(), q, strings.ToLower(q.Scope), "https://steward.test", "2019-10-01")
	if err != nil {
		t.Fatal(err)
	}
	resources, policies := bruteForce(t, est, q)
	var diffs []string
	check := func(what string, r insights.SummaryResults, a string) {
		if got, want := detailCounts(r.ResourceDetails), resources[a]; !maps.Equal(got, want) {
			diffs = append(diffs, fmt.Sprintf("%s resourceDetails = %v, counted %v", what, got, want))
		}
		if got, want := detailCounts(r.PolicyDetails), policies[a]; !maps.Equal(got, want) {
			diffs = append(diffs, fmt.Sprintf("%s policyDetails = %v, counted %v", what, got, want))
		}
		if r.NonCompliantResources != resources[a]["noncompliant"] || r.NonCompliantPolicies != policies[a]["noncompliant"] {
			diffs = append(diffs, fmt.Sprintf("%s non-compliant resources/policies = %d/%d, counted %d/%d", what,
				r.NonCompliantResources, r.NonCompliantPolicies, resources[a]["noncompliant"], policies[a]["noncompliant"]))
		}
	}
	check("scope", s.Results, "")
	var ids []string
	for _, a := range s.PolicyAssignments {
		ids = append(ids, a.PolicyAssignmentID)
		check(a.PolicyAssignmentID, a.Results, a.PolicyAssignmentID)
	}
	counted := slices.Sorted(maps.Keys(resources))
	counted = slices.DeleteFunc(counted, func(a string) bool { return a == "" })
	if slices.Sort(ids); !slices.Equal(ids, counted) {
		diffs = append(diffs, fmt.Sprintf("summary lists assignments %v, states name %v", ids, counted))
	}
	return s, diffs
}

// latestQuery is a summary's query of scope, as the console asks it.
func latestQuery(scope string) *insights.Query {
	now := time.Now()
	return &insights.Query{Latest: true, Top: -1, From: now.Add(-24 * time.Hour), To: now.Add(time.Minute), Scope: scope}
}

// scannedEstate is a benchmark estate of n resources, scanned; scope is
// its subscription.
func scannedEstate(t *testing.T, n int) (est *benchEstate, scope string) {
	t.Helper()
	est = newBenchEstate(t, n)
	scope = "/subscriptions/" + est.sub
	if err := est.engine.ScanScope(context.Background(), scope); err != nil {
		t.Fatal(err)
	}
	return est, scope
}

// TestSummarizeEqualsBruteForceCount checks summarize over a scanned
// estate against counts made from every state, and again after writes
// that change states and remove a resource's: the summary of a scope
// read once is not served stale.
func TestSummarizeEqualsBruteForceCount(t *testing.T) {
	est, scope := scannedEstate(t, 400)
	ctx := context.Background()
	query := func() *insights.Query { return latestQuery(scope) }
	before := checkSummary(t, est, query(), "after the scan")
	if len(before.PolicyAssignments) != benchAssignments || before.Results.NonCompliantResources == 0 {
		t.Fatalf("summary after the scan: %d assignments, %d non-compliant resources; the estate should have %d and some",
			len(before.PolicyAssignments), before.Results.NonCompliantResources, benchAssignments)
	}
	// A second summary of an unchanged estate is the same.
	if again := checkSummary(t, est, query(), "unchanged"); again.Results.NonCompliantResources != before.Results.NonCompliantResources {
		t.Errorf("unchanged estate: %d non-compliant resources, then %d", before.Results.NonCompliantResources, again.Results.NonCompliantResources)
	}
	// r000001 (a virtual machine tagged env=prod) loses its tag, so a01's
	// tag rule (def01) finds it non-compliant; r000002 goes.
	id1 := fmt.Sprintf("/subscriptions/%s/resourceGroups/rg001/providers/Microsoft.Compute/virtualMachines/r000001", est.sub)
	r, err := est.c.Get(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	r.Doc["tags"] = map[string]any{}
	if _, _, err := est.c.Put(ctx, nil, cloud.PutRequest{ID: id1, Type: r.Type, Doc: r.Doc}); err != nil {
		t.Fatal(err)
	}
	id2 := fmt.Sprintf("/subscriptions/%s/resourceGroups/rg002/providers/Microsoft.KeyVault/vaults/r000002", est.sub)
	if _, _, err := est.c.Delete(ctx, nil, cloud.DeleteRequest{ID: id2}); err != nil {
		t.Fatal(err)
	}
	after := checkSummary(t, est, query(), "after the writes")
	if after.Results.ResourceDetails == nil || sumDetails(after.Results.ResourceDetails) != sumDetails(before.Results.ResourceDetails)-1 {
		t.Errorf("after deleting a resource: %v resources summarized, before %v", after.Results.ResourceDetails, before.Results.ResourceDetails)
	}
	nc := func(s *insights.Summary, name string) int {
		for _, a := range s.PolicyAssignments {
			if strings.HasSuffix(a.PolicyAssignmentID, "/"+name) {
				return a.Results.NonCompliantResources
			}
		}
		return -1
	}
	if nc(after, "a01") != nc(before, "a01")+1 {
		t.Errorf("a01 non-compliant resources %d after the tag went, %d before", nc(after, "a01"), nc(before, "a01"))
	}
	// A narrower scope (one resource group) is answered from the same
	// read and counts the same.
	rg := query()
	rg.Scope = scope + "/resourceGroups/rg001"
	checkSummary(t, est, rg, "resource group")
}

func sumDetails(ds []insights.ComplianceDetail) int {
	n := 0
	for _, d := range ds {
		n += d.Count
	}
	return n
}

// TestSummarizeSeesOtherReplicasWrites: two replicas on one PostgreSQL
// schema. Replica A summarizes (and caches what it read); replica B
// changes a resource, which B's write hook re-evaluates; A's next
// summaries must come to count the change (the commit's notification
// reaches A shortly after it, and A reads that resource's states again),
// not keep answering from what A read, nor read the whole scope again.
func TestSummarizeSeesOtherReplicasWrites(t *testing.T) {
	est, c2 := twoReplicas(t, 40)
	ctx := context.Background()
	scope := "/subscriptions/" + est.sub
	query := func() *insights.Query { return latestQuery(scope) }
	a01 := func() int {
		s, err := est.engine.Summarize(ctx, query(), strings.ToLower(scope), "https://steward.test", "2019-10-01")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range s.PolicyAssignments {
			if strings.HasSuffix(a.PolicyAssignmentID, "/a01") {
				return a.Results.NonCompliantResources
			}
		}
		return 0
	}
	before := a01()
	a01() // served from A's cache
	reads := est.engine.ScopeReads()
	// r000001 (a virtual machine tagged env=prod) loses its tag on B.
	id := fmt.Sprintf("/subscriptions/%s/resourceGroups/rg001/providers/Microsoft.Compute/virtualMachines/r000001", est.sub)
	r, err := c2.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	r.Doc["tags"] = map[string]any{}
	if _, _, err := c2.Put(ctx, nil, cloud.PutRequest{ID: id, Type: r.Type, Doc: r.Doc}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		n := a01()
		if n == before+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica A counts %d non-compliant resources for a01 a minute after B's write, want %d", n, before+1)
		}
		time.Sleep(50 * time.Millisecond)
	}
	checkSummary(t, est, query(), "after B's write")
	// A read B's resource again, not the whole scope.
	if n := est.engine.ScopeReads(); n != reads {
		t.Errorf("replica A read the scope from the store %d times after B's write of one resource, want 0", n-reads)
	}
	// So too when B deletes a resource and creates one.
	converge := func(what string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			_, diffs := summaryDiffs(t, est, query())
			if len(diffs) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a minute after %s, replica A's summary: %v", what, diffs)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if n := est.engine.ScopeReads(); n != reads {
			t.Errorf("replica A read the scope from the store %d times after %s, want 0", n-reads, what)
		}
	}
	if _, _, err := c2.Delete(ctx, nil, cloud.DeleteRequest{ID: benchResourceID(est.sub, 3)}); err != nil {
		t.Fatal(err)
	}
	converge("B's delete")
	r, err = c2.Get(ctx, benchResourceID(est.sub, 5))
	if err != nil {
		t.Fatal(err)
	}
	newID := benchResourceID(est.sub, est.n+5)
	r.Doc["id"], r.Doc["name"] = newID, newID[strings.LastIndexByte(newID, '/')+1:]
	if _, _, err := c2.Put(ctx, nil, cloud.PutRequest{ID: newID, Type: r.Type, Doc: r.Doc}); err != nil {
		t.Fatal(err)
	}
	converge("B's new resource")

	// B and A write at once (B the resources 10 to 19, A 20 to 29, both
	// resource 30) while A summarizes; once both stop, A's summaries
	// must come to count what the store holds, from its cache.
	var wg sync.WaitGroup
	for w, c := range []*cloud.Cloud{c2, est.c} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 4 {
				for i := 10 + 10*w; i < 20+10*w; i++ {
					tags := map[string]any{}
					if (round+i)%2 == 0 {
						tags["env"] = "prod"
					}
					setTags(t, c, benchResourceID(est.sub, i), tags)
				}
				setTags(t, c, benchResourceID(est.sub, 30), map[string]any{"round": fmt.Sprint(w, round)})
			}
		}()
	}
	whileRunning(&wg, func() { a01() })
	deadline = time.Now().Add(60 * time.Second)
	for {
		_, diffs := summaryDiffs(t, est, query())
		if len(diffs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a minute after both writers stopped, replica A's summary: %v", diffs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The cached states come to equal the stored ones too (a write of B's
	// that left the counts as they were may still be on its way; a
	// late note may have dropped the scope).
	for {
		err := est.engine.CacheMatchesStore(ctx, strings.ToLower(scope)+"/")
		if err == nil || errors.Is(err, insights.ErrNotCached) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a minute after both writers stopped: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// whileRunning calls fn again and again until the writers of wg are
// done.
func whileRunning(wg *sync.WaitGroup, fn func()) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
			return
		default:
			fn()
		}
	}
}

// setTags writes a resource's tags through c, whose write hook evaluates
// it again.
func setTags(t *testing.T, c *cloud.Cloud, id string, tags map[string]any) {
	t.Helper()
	ctx := context.Background()
	r, err := c.Get(ctx, id)
	if err != nil {
		t.Error(err)
		return
	}
	r.Doc["tags"] = tags
	if _, _, err := c.Put(ctx, nil, cloud.PutRequest{ID: id, Type: r.Type, Doc: r.Doc}); err != nil {
		t.Error(err)
	}
}

// TestSummarizeAfterWritesEqualsBruteForceCount interleaves writes of
// every kind with summaries on one replica. Each summary after a write
// must be answered from the cached scope with the write applied, not from
// a new read of the store; it must count what a brute-force count of the
// stored states says, and the cached states must equal the stored ones
// field by field. Then two writers change the same resources at once
// while summaries run, and the summary after them must count right.
func TestSummarizeAfterWritesEqualsBruteForceCount(t *testing.T) {
	est, scope := scannedEstate(t, 400)
	ctx := context.Background()
	prefix := strings.ToLower(scope) + "/"
	query := func() *insights.Query { return latestQuery(scope) }
	checkSummary(t, est, query(), "after the scan")
	reads := est.engine.ScopeReads()
	after := func(what string) *insights.Summary {
		t.Helper()
		s := checkSummary(t, est, query(), "after "+what)
		if n := est.engine.ScopeReads(); n != reads {
			t.Errorf("after %s: the summary read the scope from the store again (%d reads, %d before)", what, n, reads)
			reads = n
		}
		if err := est.engine.CacheMatchesStore(ctx, prefix); err != nil {
			t.Errorf("after %s: %v", what, err)
		}
		return s
	}
	res := func(i int) string { return benchResourceID(est.sub, i) }

	setTags(t, est.c, res(1), map[string]any{}) // a01's tag rule finds it non-compliant
	after("a tag removed")
	setTags(t, est.c, res(5), map[string]any{"env": "prod"})
	setTags(t, est.c, res(6), map[string]any{"env": "prod", "owner": "ops"})
	after("tags added")
	if _, _, err := est.c.Delete(ctx, nil, cloud.DeleteRequest{ID: res(2)}); err != nil {
		t.Fatal(err)
	}
	after("a delete")
	// New resources: their states are inserted among the cached ones
	// (r000400 after every other, r0001xx-like IDs in between).
	for _, i := range []int{est.n, est.n + 1, est.n + 57} {
		r, err := est.c.Get(ctx, res(i%est.n))
		if err != nil {
			t.Fatal(err)
		}
		id := res(i)
		doc := maps.Clone(r.Doc)
		doc["id"], doc["name"] = id, id[strings.LastIndexByte(id, '/')+1:]
		if _, _, err := est.c.Put(ctx, nil, cloud.PutRequest{ID: id, Type: r.Type, Doc: doc}); err != nil {
			t.Fatal(err)
		}
	}
	after("three new resources")
	// A bulk load replaces the states of twelve resources with one each
	// (a batch read with one range scan) ...
	var loaded []*insights.State
	for i := 40; i < 52; i++ {
		loaded = append(loaded, &insights.State{Timestamp: time.Now(), ResourceID: res(i), ResourceType: benchTypes[i%len(benchTypes)],
			Location: "eastus", Tags: map[string]string{"env": "test"}, GroupNames: []string{"g1"},
			AssignmentID:    fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/policyAssignments/a03", est.sub),
			DefinitionID:    fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/policyDefinitions/def03", est.sub),
			SetDefinitionID: "", Effect: "audit", State: policy.StateNonCompliant})
	}
	if err := est.engine.LoadStates(ctx, loaded); err != nil {
		t.Fatal(err)
	}
	after("a bulk load")
	// ... and a scan puts back what the resources say.
	if err := est.engine.ScanScope(ctx, scope); err != nil {
		t.Fatal(err)
	}
	after("a rescan")

	// Two writers flip the tags of the same ten resources while summaries
	// run: writes of one resource in flight at once may commit in either
	// order, so the cache must not apply them in the order they return.
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 8 {
				for i := 10; i < 20; i++ {
					tags := map[string]any{}
					if (round+w+i)%2 == 0 {
						tags["env"] = "prod"
					}
					setTags(t, est.c, res(i), tags)
				}
			}
		}()
	}
	whileRunning(&wg, func() {
		if _, err := est.engine.Summarize(ctx, query(), prefix[:len(prefix)-1], "https://steward.test", "2019-10-01"); err != nil {
			t.Fatal(err)
		}
	})
	checkSummary(t, est, query(), "after two concurrent writers")
	if err := est.engine.CacheMatchesStore(ctx, prefix); err != nil {
		t.Errorf("after two concurrent writers: %v", err)
	}
}

// TestSummarizeAfterWritesCommittedOutOfOrder: a write of a resource
// commits, then stalls before it updates the cache; a second write of the
// same resource commits and updates the cache meanwhile. The first
// write's update must not overwrite the second's: the summaries after
// both count what the store holds.
func TestSummarizeAfterWritesCommittedOutOfOrder(t *testing.T) {
	est, scope := scannedEstate(t, 40)
	query := func() *insights.Query { return latestQuery(scope) }
	checkSummary(t, est, query(), "after the scan")
	stalled, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	insights.SetAfterStatesCommit(t, func() {
		first := false
		once.Do(func() { first = true })
		if first {
			close(stalled)
			<-release
		}
	})
	id := benchResourceID(est.sub, 1) // tagged env=prod
	done := make(chan struct{})
	go func() {
		defer close(done)
		setTags(t, est.c, id, map[string]any{}) // commits first, updates the cache last
	}()
	<-stalled
	setTags(t, est.c, id, map[string]any{"env": "prod", "owner": "ops"})
	checkSummary(t, est, query(), "while the first write stalls")
	close(release)
	<-done
	checkSummary(t, est, query(), "after both writes")
	checkSummary(t, est, query(), "again")
}
