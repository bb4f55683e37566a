package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/insights"
	"github.com/steward-gov/steward/internal/collector"
	stewardpolicy "github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/store"
)

// Sizes of BenchmarkCollector; the defaults are small, and
// docs/benchmarks/collector.md gives the full-size command (10,000
// deployments × 50 states).
const (
	benchCollectorDeploymentsEnv = "STEWARD_COLLECTOR_BENCH_DEPLOYMENTS"
	benchCollectorStatesEnv      = "STEWARD_COLLECTOR_BENCH_STATES"
	benchCollectorSubsEnv        = "STEWARD_COLLECTOR_BENCH_SUBSCRIPTIONS"
)

// faultTransport is the fault-injected embedded ARM: every request waits
// latency, and a fraction of them is answered 429 (Retry-After: 1) or 500
// without reaching Steward. It counts what it sees.
type faultTransport struct {
	next      policy.Transporter
	latency   time.Duration
	rate      float64
	requests  atomic.Int64
	injected  atomic.Int64
	throttled atomic.Int64 // 429s from Steward's own ARM limits
}

func (f *faultTransport) Do(req *http.Request) (*http.Response, error) {
	f.requests.Add(1)
	select {
	case <-time.After(f.latency):
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	if r := rand.Float64(); r < f.rate {
		f.injected.Add(1)
		status, code := http.StatusInternalServerError, "InternalServerError"
		h := http.Header{"Content-Type": {"application/json"}}
		if r < f.rate/2 {
			status, code = http.StatusTooManyRequests, "TooManyRequests"
			h.Set("Retry-After", "1")
		}
		body := `{"error":{"code":"` + code + `","message":"injected fault"}}`
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
	}
	resp, err := f.next.Do(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		f.throttled.Add(1)
	}
	return resp, err
}

// benchWorld is N deployments, each a managed resource group with the
// audit-env-tag assignment and S policy states of network security groups
// (every other one non-compliant), spread over several subscriptions,
// registered in the inventory.
//
// The world is loaded in bulk, since the benchmark measures the
// collector, not ARM's writes or the compliance engine: the inventory
// through the Table service's entity group transactions
// (TableInventory.PutMany), the states through the compliance engine's
// bulk load (insights LoadStates), the managed resource groups straight
// into the Cloud's tables. The resources themselves are not created:
// nothing the collector does reads them. (Creating them through
// ARM, as an earlier version did, took 25 minutes at 1,000 × 5 on this
// machine.)
func benchWorld(b testing.TB, ce *collectorEnv, nDep, nStates, nSubs int) []collector.Deployment {
	ctx := context.Background()
	subs := []string{ce.sub}
	for i := 1; i < nSubs; i++ {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		if _, _, err := ce.s.Cloud.CreateSubscription(ctx, nil, cloud.Subscription{ID: id, DisplayName: "bench"}); err != nil {
			b.Fatal(err)
		}
		if err := ce.s.Cloud.EnsureOwner(ctx, "/subscriptions/"+id, ce.info.ObjectID, "ServicePrincipal"); err != nil {
			b.Fatal(err)
		}
		subs = append(subs, id)
	}
	// The scans those writes queued finish before the states are loaded
	// (a scan of a scope without resources would remove them).
	for deadline := time.Now().Add(10 * time.Minute); ce.insights.Pending(ctx); {
		if time.Now().After(deadline) {
			b.Fatal("the compliance engine never went idle")
		}
		time.Sleep(50 * time.Millisecond)
	}
	at := time.Now().UTC().Add(-time.Minute)
	deps := make([]collector.Deployment, nDep)
	groupsOf := map[string][]string{}
	states := make([]*insights.State, 0, min(nDep, 1000)*nStates)
	for i := range nDep {
		sub := subs[i%len(subs)]
		mrg := fmt.Sprintf("/subscriptions/%s/resourceGroups/mrg-%05d", sub, i)
		assignment := mrg + "/providers/Microsoft.Authorization/policyAssignments/audit-env-tag"
		groups, ok := groupsOf[sub]
		if !ok {
			groups = ce.s.Cloud.ManagementGroupsAbove(sub)
			groupsOf[sub] = groups
		}
		for j := range nStates {
			st := insights.State{Timestamp: at, ResourceID: fmt.Sprintf("%s/providers/Microsoft.Network/networkSecurityGroups/nsg-%03d", mrg, j),
				ResourceType: "Microsoft.Network/networkSecurityGroups", Location: "westeurope", AssignmentID: assignment,
				DefinitionID: "/providers/Microsoft.Authorization/policyDefinitions/0a914e76-4921-4c19-b460-a2d36003525a",
				Effect:       "audit", State: stewardpolicy.StateCompliant, ManagementGroups: groups}
			if j%2 == 1 {
				st.State = stewardpolicy.StateNonCompliant
			}
			states = append(states, &st)
		}
		deps[i] = collector.Deployment{ApplicationID: fmt.Sprintf("/subscriptions/%s/resourceGroups/apps/providers/Microsoft.Solutions/applications/app-%05d", sub, i),
			TenantID: ce.info.TenantID, SubscriptionID: sub, ResourceGroup: "apps", Name: fmt.Sprintf("app-%05d", i),
			ManagedResourceGroupID: mrg, PlanName: "gold", ProvisioningState: collector.StateSucceeded, LastSeen: time.Now()}
		if len(states) >= 1000*nStates || i == nDep-1 {
			if err := ce.insights.LoadStates(ctx, states); err != nil {
				b.Fatal(err)
			}
			states = states[:0]
		}
	}
	// The managed resource groups, stored directly in the Cloud's layout
	// (cloud.resources keyed by the lower-case ID holding {id, type, doc};
	// cloud.types keyed "{type}|{id}"), as the compliance benchmark seeds
	// its estate: Policy Insights answers 404 for a group that does not
	// exist, and 10,000 ARM PUTs would each queue a compliance scan.
	var groupDocs, groupIndex []store.Entry
	for _, d := range deps {
		id := d.ManagedResourceGroupID
		doc := map[string]any{"id": id, "name": id[strings.LastIndex(id, "/")+1:], "type": "Microsoft.Resources/resourceGroups",
			"location": "westeurope", "managedBy": d.ApplicationID, "properties": map[string]any{"provisioningState": "Succeeded"}}
		v, err := json.Marshal(map[string]any{"id": id, "type": cloud.TypeResourceGroup, "doc": doc})
		if err != nil {
			b.Fatal(err)
		}
		groupDocs = append(groupDocs, store.Entry{Key: strings.ToLower(id), Value: v})
		groupIndex = append(groupIndex, store.Entry{Key: strings.ToLower(cloud.TypeResourceGroup + "|" + id), Value: []byte("1")})
	}
	for len(groupDocs) > 0 {
		n := min(len(groupDocs), 5000)
		if err := ce.s.Store.Update(ctx, func(tx store.Tx) error {
			if err := store.PutMany(ctx, tx, "cloud.resources", groupDocs[:n]); err != nil {
				return err
			}
			return store.PutMany(ctx, tx, "cloud.types", groupIndex[:n])
		}); err != nil {
			b.Fatal(err)
		}
		groupDocs, groupIndex = groupDocs[n:], groupIndex[n:]
	}
	if err := ce.inventory.PutMany(ctx, deps); err != nil {
		b.Fatal(err)
	}
	// Spot checks through the SDKs: the inventory lists every deployment,
	// and the first and last managed resource groups have their states.
	if listed, err := ce.inventory.List(ctx); err != nil || len(listed) != nDep {
		b.Fatalf("the inventory lists %d deployments (%v), want %d", len(listed), err, nDep)
	}
	cred, err := azidentity.NewClientSecretCredential(ce.info.TenantID, ce.info.ClientID, ce.info.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: ce.s.ARMClientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		b.Fatal(err)
	}
	client, _ := armpolicyinsights.NewPolicyStatesClient(cred, &azarm.ClientOptions{ClientOptions: ce.s.ARMClientOptions()})
	for _, d := range []collector.Deployment{deps[0], deps[nDep-1]} {
		rg := d.ManagedResourceGroupID[strings.LastIndex(d.ManagedResourceGroupID, "/")+1:]
		page, err := client.NewListQueryResultsForResourceGroupPager(armpolicyinsights.PolicyStatesResourceLatest, d.SubscriptionID, rg, nil, nil).NextPage(ctx)
		// (The first page: the service pages at 1,000.)
		if err != nil || len(page.Value) != min(nStates, 1000) || (page.ODataNextLink != nil) != (nStates > 1000) {
			b.Fatalf("%s has %d states on its first page (%v), want %d", d.ManagedResourceGroupID, len(page.Value), err, nStates)
		}
	}
	return deps
}

// countRows returns the rows of a run in the table and how many of them
// are duplicates (a RecordId seen before).
func countRows(b *testing.B, ce *collectorEnv, runID string) (rows, dups int) {
	t := &testing.T{}
	got := ce.rows(t, `PolicyComplianceStates_CL | where RunId == '`+runID+`' | summarize n = count(), d = dcount(RecordId)`)
	if t.Failed() || len(got) != 1 {
		b.Fatalf("counting rows of %s: %v", runID, got)
	}
	n, d := int(got[0][0].(float64)), int(got[0][1].(float64))
	return n, n - d
}

// BenchmarkCollector collects every deployment's states through a
// fault-injected ARM (50 ms per request, 2% answered 429 or 500), once with
// the collector (bounded concurrency, token buckets, Retry-After, backoff,
// leased work, outbox) and once with a re-implementation of the seed's
// design (one task per deployment, all at once, the SDK's default retries,
// a failing deployment dropped). It reports ARM requests, 429s from
// Steward's own limits, and lost and duplicated rows per collection.
func BenchmarkCollector(b *testing.B) {
	nDep, nStates, nSubs := envInt(benchCollectorDeploymentsEnv, 100), envInt(benchCollectorStatesEnv, 50), envInt(benchCollectorSubsEnv, 10)
	ce := newCollectorEnv(&testing.T{})
	deps := benchWorld(b, ce, nDep, nStates, nSubs)
	want := nDep * nStates
	cred, err := azidentity.NewClientSecretCredential(ce.info.TenantID, ce.info.ClientID, ce.info.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: ce.s.ARMClientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		b.Fatal(err)
	}
	faulty := func() (*faultTransport, azarm.ClientOptions) {
		f := &faultTransport{next: ce.s.Transport(), latency: 50 * time.Millisecond, rate: 0.02}
		o := azarm.ClientOptions{ClientOptions: ce.s.ARMClientOptions()}
		o.Transport = f
		return f, o
	}

	b.Run("collector", func(b *testing.B) {
		var lost, dups, reqs, thr int
		for i := 0; i < b.N; i++ {
			f, o := faulty()
			opts := ce.collOpts
			opts.ARM, opts.Owner, opts.Concurrency = o, fmt.Sprintf("bench-%d", i), 64
			opts.Now = time.Now
			opts.Principal = func(string) (collector.Principal, error) {
				return collector.Principal{Name: ce.info.ClientID, Credential: cred}, nil
			}
			c, err := collector.New(opts)
			if err != nil {
				b.Fatal(err)
			}
			run, err := c.RunOnce(context.Background(), true)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if run.Failed > 0 {
				failures, _ := c.Failures(context.Background(), run.ID)
				b.Logf("run %s: %d of %d deployments failed, first: %+v", run.ID, run.Failed, run.Deployments, failures[0])
			}
			n, d := countRows(b, ce, run.ID)
			lost, dups = lost+want-(n-d), dups+d
			reqs, thr = reqs+int(f.requests.Load()), thr+int(f.throttled.Load())
			b.StartTimer()
		}
		b.ReportMetric(float64(reqs)/float64(b.N), "arm-requests/op")
		b.ReportMetric(float64(thr)/float64(b.N), "arm-429/op")
		b.ReportMetric(float64(lost)/float64(b.N), "lost-rows/op")
		b.ReportMetric(float64(dups)/float64(b.N), "dup-rows/op")
	})

	b.Run("seed-design", func(b *testing.B) {
		var lost, dups, reqs, thr int
		for i := 0; i < b.N; i++ {
			f, o := faulty()
			runID := fmt.Sprintf("seed-%d-%d", time.Now().UnixNano(), i)
			rows := seedStyleCollect(deps, cred, &o, runID)
			if err := seedStyleUpload(ce.collOpts.Upload, rows); err != nil {
				b.Logf("seed-style upload: %v", err)
			}
			b.StopTimer()
			n, d := countRows(b, ce, runID)
			lost, dups = lost+want-(n-d), dups+d
			reqs, thr = reqs+int(f.requests.Load()), thr+int(f.throttled.Load())
			b.StartTimer()
		}
		b.ReportMetric(float64(reqs)/float64(b.N), "arm-requests/op")
		b.ReportMetric(float64(thr)/float64(b.N), "arm-429/op")
		b.ReportMetric(float64(lost)/float64(b.N), "lost-rows/op")
		b.ReportMetric(float64(dups)/float64(b.N), "dup-rows/op")
	})
}

// seedStyleCollect is the seed's PolicyStates design in Go: one task per
// deployment, all started at once, the SDK's pager with the SDK's default
// retries, and a deployment whose query fails dropped (its broad except).
func seedStyleCollect(deps []collector.Deployment, cred *azidentity.ClientSecretCredential, o *azarm.ClientOptions, runID string) []map[string]any {
	o.Retry = policy.RetryOptions{} // azcore's defaults: 3 retries from 4 s
	client, _ := armpolicyinsights.NewPolicyStatesClient(cred, o)
	results := make([][]map[string]any, len(deps))
	var wg sync.WaitGroup
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for i, d := range deps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rg := d.ManagedResourceGroupID[strings.LastIndex(d.ManagedResourceGroupID, "/")+1:]
			filter := "PolicyAssignmentScope eq '" + d.ManagedResourceGroupID + "'"
			p := client.NewListQueryResultsForResourceGroupPager(armpolicyinsights.PolicyStatesResourceLatest, d.SubscriptionID, rg,
				&armpolicyinsights.QueryOptions{Filter: &filter}, nil)
			var out []map[string]any
			for p.More() {
				page, err := p.NextPage(context.Background())
				if err != nil {
					return // dropped, as the seed's except does
				}
				for _, s := range page.Value {
					h := sha256.Sum256([]byte(strings.ToLower(runID + "\x00" + d.ApplicationID + "\x00" + *s.PolicyAssignmentID + "\x00\x00" + *s.ResourceID)))
					out = append(out, map[string]any{"TimeGenerated": now, "RunId": runID, "RecordId": hex.EncodeToString(h[:16]),
						"ApplicationId": d.ApplicationID, "ResourceId": *s.ResourceID, "PolicyAssignmentId": *s.PolicyAssignmentID,
						"ComplianceState": *s.ComplianceState})
				}
			}
			results[i] = out
		}()
	}
	wg.Wait()
	var all []map[string]any
	for _, r := range results {
		all = append(all, r...)
	}
	return all
}

// seedStyleUpload sends rows in chunks under 1 MB, as the Python
// ingestion client does, each gzip-compressed, once.
func seedStyleUpload(upload func(context.Context, []byte) error, rows []map[string]any) error {
	var chunk []map[string]any
	size := 0
	var errs []error
	flush := func() {
		if len(chunk) == 0 {
			return
		}
		b, _ := json.Marshal(chunk)
		if err := upload(context.Background(), gzipBytes(b)); err != nil {
			errs = append(errs, err)
		}
		chunk, size = nil, 0
	}
	for _, r := range rows {
		b, _ := json.Marshal(r)
		if size+len(b) > 1<<20-1024 {
			flush()
		}
		chunk = append(chunk, r)
		size += len(b) + 1
	}
	flush()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}
