package insights_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/cloud/policyprovider"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// chaosScanEnv hands the store URL to the child replica of
// TestKill9DuringComplianceScan and tells the binary it is that child.
const chaosScanEnv = "STEWARD_CHAOS_SCAN_STORE"

// chaosResources is the estate of the chaos scan: large enough that one
// worker needs seconds for it on PostgreSQL.
const chaosResources = 3000

const chaosTenant = "11111111-1111-1111-1111-111111111111"

var chaosTypes = []string{"Microsoft.Web/sites", "Microsoft.Compute/virtualMachines", "Microsoft.KeyVault/vaults",
	"Microsoft.Network/publicIPAddresses"}

// chaosReplica is one replica's Cloud, with the policy provider, on the
// shared store at url, and its compliance engine (neither mounted nor
// started).
type chaosReplica struct {
	st     store.Store
	c      *cloud.Cloud
	engine *insights.Engine
}

func openChaosReplica(ctx context.Context, url string, opts insights.Options) (*chaosReplica, error) {
	st, err := store.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	c, err := cloud.New(cloud.Options{Store: st, TenantID: chaosTenant,
		Authenticate: func(h http.Handler) http.Handler { return h }})
	var p *policyprovider.Provider
	if err == nil {
		p, err = policyprovider.Register(c, policyprovider.Options{})
	}
	if err == nil {
		err = c.Start(ctx)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	opts.Assignments = p.Assignments
	return &chaosReplica{st: st, c: c, engine: insights.New(c, opts)}, nil
}

// TestKill9DuringComplianceScan: two replicas, each a Cloud with the
// policy provider and the compliance engine on one PostgreSQL schema.
// Replica A (a child process) takes a queued full scan of a 3,000-resource estate; it is killed with SIGKILL
// once it holds the job's lease and has written some states. Replica B
// (this process) takes the job over when A's lease expires and finishes
// it: the scan's operation succeeds and every resource has exactly one
// state per applicable assignment.
func TestKill9DuringComplianceScan(t *testing.T) {
	if url := os.Getenv(chaosScanEnv); url != "" {
		scanReplica(url)
	}
	url := storetest.PostgresSchema(t)
	ctx := context.Background()
	rb, err := openChaosReplica(ctx, url, insights.Options{Owner: "replica-b", LeaseTTL: 2 * time.Second,
		Poll: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st, b := rb.st, rb.engine
	t.Cleanup(func() { st.Close() })
	sub := "22222222-2222-2222-2222-222222222222"
	buildChaosEstate(t, rb.c, sub)
	if err := b.Mount(); err != nil {
		t.Fatal(err)
	}
	const opID = "chaos-scan-operation"
	if err := b.Enqueue(ctx, "/subscriptions/"+sub, opID); err != nil {
		t.Fatal(err)
	}
	a := storetest.StartChild(t, chaosScanEnv, url)

	// Wait until A holds the job and has written part of the estate's
	// states: it is in the middle of the scan.
	deadline := time.Now().Add(40 * time.Second)
	for {
		qs, err := st.QueueStats(ctx, insights.JobsTable, "")
		if err != nil {
			t.Fatal(err)
		}
		if qs.Leased == 1 && countStates(t, st) > 0 {
			break
		}
		if done, out := a.Exited(); done {
			t.Fatalf("replica A ended before it was killed: %s", out)
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica A did not take the scan within 40 s (queue %+v)", qs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.Kill(t)
	killed := time.Now()
	written := len(chaosStates(t, st))
	if qs, err := st.QueueStats(ctx, insights.JobsTable, ""); err != nil || qs.Depth != 1 {
		t.Fatalf("after the kill the job is gone (%+v, %v): A finished the scan first; the estate is too small", qs, err)
	}
	if op, err := b.GetOperation(ctx, opID); err != nil || op.Status != "Running" {
		t.Fatalf("operation after the kill: %+v %v; want Running", op, err)
	}
	if written >= chaosResources*5 {
		t.Fatalf("A had written all %d states before the kill", written)
	}

	b.Start(ctx)
	defer b.Stop()
	deadline = time.Now().Add(50 * time.Second)
	for {
		op, err := b.GetOperation(ctx, opID)
		if err != nil {
			t.Fatal(err)
		}
		if op.Status == "Succeeded" {
			break
		}
		if op.Status != "Running" {
			t.Fatalf("operation: %+v", op)
		}
		if time.Now().After(deadline) {
			t.Fatal("replica B did not finish the scan within 50 s of the kill")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("A wrote %d of %d states before SIGKILL; B finished the scan %.1f s after it (lease TTL 2 s)",
		written, chaosResources*5, time.Since(killed).Seconds())
	if qs, err := st.QueueStats(ctx, insights.JobsTable, ""); err != nil || qs.Depth != 0 {
		t.Errorf("queue after the scan: %+v %v; want empty", qs, err)
	}
	checkChaosStates(t, st, sub)
}

// scanReplica is replica A: it runs the compliance worker on the shared
// store until it is killed (or a minute has passed).
func scanReplica(url string) {
	ctx := context.Background()
	ra, err := openChaosReplica(ctx, url, insights.Options{Owner: "replica-a", LeaseTTL: 2 * time.Second,
		Poll: 50 * time.Millisecond, Workers: 1})
	if err != nil {
		storetest.ChildExit("replica A:", err)
	}
	e := ra.engine
	if err := e.Mount(); err != nil {
		storetest.ChildExit("replica A:", err)
	}
	e.Start(ctx)
	time.Sleep(time.Minute)
	storetest.ChildExit("replica A was not killed within a minute")
}

// buildChaosEstate writes chaosResources resources in 20 groups and the
// 20 assignments of benchDefinition at the subscription, through the
// Cloud with no compliance engine mounted (nothing is evaluated yet).
func buildChaosEstate(t *testing.T, c *cloud.Cloud, sub string) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := c.CreateSubscription(ctx, nil, cloud.Subscription{ID: sub, DisplayName: "chaos"}); err != nil {
		t.Fatal(err)
	}
	put := func(id, typ string, doc map[string]any) error {
		doc["id"], doc["type"], doc["name"] = id, typ, lastSegment(id)
		_, _, err := c.Put(ctx, nil, cloud.PutRequest{ID: id, Type: typ, Doc: doc})
		return err
	}
	const groups = 20
	for g := range groups {
		if err := put(fmt.Sprintf("/subscriptions/%s/resourceGroups/rg%02d", sub, g), cloud.TypeResourceGroup,
			map[string]any{"location": "westeurope"}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < chaosResources; i += 8 {
				typ := chaosTypes[i%len(chaosTypes)]
				id := fmt.Sprintf("/subscriptions/%s/resourceGroups/rg%02d/providers/%s/r%05d", sub, i%groups, typ, i)
				if err := put(id, typ, map[string]any{"location": "northeurope", "tags": map[string]any{},
					"properties": map[string]any{"httpsOnly": i%2 == 0}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for k := range benchAssignments {
		def := fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/policyDefinitions/def%02d", sub, k)
		if err := put(def, insights.TypeDefinition, map[string]any{"properties": benchDefinition(k, chaosTypes)}); err != nil {
			t.Fatal(err)
		}
		if err := put(fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/policyAssignments/a%02d", sub, k),
			insights.TypeAssignment, map[string]any{"properties": map[string]any{"policyDefinitionId": def,
				"scope": "/subscriptions/" + sub, "parameters": map[string]any{"effect": map[string]any{"value": "Audit"}}}}); err != nil {
			t.Fatal(err)
		}
	}
}

// chaosStates reads the keys of every stored policy state.
func chaosStates(t *testing.T, st store.Store) []string {
	t.Helper()
	ctx := context.Background()
	var keys []string
	err := st.View(ctx, func(tx store.Tx) error {
		after := ""
		for {
			page, err := tx.Scan(ctx, "insights.states", store.Query{KeysOnly: true, Limit: store.MaxPageSize, After: after})
			if err != nil {
				return err
			}
			for _, r := range page.Records {
				keys = append(keys, r.Key)
			}
			if page.Next == "" {
				return nil
			}
			after = page.Next
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func countStates(t *testing.T, st store.Store) int {
	t.Helper()
	var n int
	err := st.View(context.Background(), func(tx store.Tx) error {
		page, err := tx.Scan(context.Background(), "insights.states", store.Query{KeysOnly: true, Limit: 1})
		n = len(page.Records)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkChaosStates checks that every resource has exactly one state for
// each of the five assignments whose definition names its type (k mod 4
// = its type's index), and nothing else.
func checkChaosStates(t *testing.T, st store.Store, sub string) {
	t.Helper()
	got := map[string]int{}
	for _, k := range chaosStates(t, st) {
		got[k]++
	}
	want := map[string]bool{}
	for i := range chaosResources {
		typ := chaosTypes[i%len(chaosTypes)]
		res := strings.ToLower(fmt.Sprintf("/subscriptions/%s/resourceGroups/rg%02d/providers/%s/r%05d", sub, i%20, typ, i))
		for k := i % len(chaosTypes); k < benchAssignments; k += len(chaosTypes) {
			a := strings.ToLower(fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/policyAssignments/a%02d", sub, k))
			want[res+"|"+a+"|"] = true
		}
	}
	missing, extra := 0, 0
	for k := range want {
		if got[k] != 1 {
			missing++
			if missing <= 3 {
				t.Errorf("state %s: %d copies, want 1", k, got[k])
			}
		}
	}
	for k := range got {
		if !want[k] {
			extra++
			if extra <= 3 {
				t.Errorf("unexpected state %s", k)
			}
		}
	}
	if missing+extra > 0 || len(got) != len(want) {
		t.Errorf("%d states (want %d): %d missing, %d unexpected", len(got), len(want), missing, extra)
	}
}
