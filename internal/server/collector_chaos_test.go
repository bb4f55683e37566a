package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/steward-gov/steward/internal/collector"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// chaosCollectorEnv hands replica A (the child process) its settings.
const chaosCollectorEnv = "STEWARD_CHAOS_COLLECTOR"

// collectorChaos is what replica A needs: the shared store, how to reach
// the Steward (its URL, proxy and CA) and sign in, the ingestion endpoint
// and rule, the workspace, the run's clock, and where to signal.
type collectorChaos struct {
	Store, BaseURL, ProxyURL, CAFile string
	TenantID, ClientID, ClientSecret string
	Endpoint, RuleID, Workspace      string
	At                               time.Time
	OutboxLease                      time.Duration
	Signal                           string
}

// TestKill9DuringCollectionRun: replica A (a child process sharing the
// PostgreSQL store, reading ARM and sending to the Logs Ingestion API of
// the Steward in this process) starts a collection run over six
// registered deployments, collects one of them, marks its batch as being
// sent, sends it, and is killed with SIGKILL before it records the
// acknowledgement. Replica B (this process) joins the run: it collects
// the five deployments A never leased, and once A's outbox lease (2 s
// here) runs out finds A's batch in the table by its BatchId and
// acknowledges it without sending it again. Every (deployment,
// assignment, resource) row is in PolicyComplianceStates_CL exactly once.
func TestKill9DuringCollectionRun(t *testing.T) {
	storetest.RunReplica(chaosCollectorEnv, 4*time.Minute, collectorReplicaA)
	pg := storetest.PostgresSchema(t)
	const (
		nDep, nStates = 6, 20
		outboxLease   = 2 * time.Second
	)
	ce := newCollectorEnvOn(t, pg)
	ctx := context.Background()
	deps := benchWorld(t, ce, nDep, nStates, 2)
	at := time.Now().UTC().Truncate(time.Second)
	ce.clock.Set(at)

	// A's signal: the applications of the batch it sent.
	sent := make(chan []string, 1)
	sig := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/sent" {
			sent <- r.URL.Query()["app"]
		}
	}))
	defer sig.Close()
	child := storetest.StartReplica(t, chaosCollectorEnv, collectorChaos{Store: pg, BaseURL: ce.s.BaseURL, ProxyURL: ce.s.ProxyURL, CAFile: CAPath(ce.dir),
		TenantID: ce.info.TenantID, ClientID: ce.info.ClientID, ClientSecret: ce.info.ClientSecret,
		Endpoint: ce.endpoint, RuleID: ce.ruleID, Workspace: ce.workspace, At: at, OutboxLease: outboxLease, Signal: sig.URL})
	aApps := storetest.Await(t, child, sent, 3*time.Minute, "replica A did not send a batch")
	child.Kill(t)
	killed := time.Now()
	if len(aApps) != 1 {
		t.Fatalf("A's batch held the rows of %v; want one deployment's", aApps)
	}

	// What A left: its run unfinished with one deployment collected and
	// one batch, unacknowledged and marked as being sent; the other five
	// deployments' work untouched.
	a, err := collector.New(ce.collOpts)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := a.Current(ctx)
	if err != nil || cur.Done || cur.Deployments != nDep || cur.Collected != 1 || cur.Batches != 1 || cur.Uploaded != 0 || cur.Rows != nStates {
		t.Fatalf("the run A left: %+v %v", cur, err)
	}
	var outbox []store.Record
	var work int
	if err := ce.s.Store.View(ctx, func(tx store.Tx) error {
		p, err := tx.Scan(ctx, "collector.outbox", store.Query{Prefix: cur.ID + "/", Limit: 100})
		if err != nil {
			return err
		}
		outbox = p.Records
		w, err := tx.Scan(ctx, "collector.work", store.Query{Prefix: cur.ID + "/", Limit: 100, KeysOnly: true})
		work = len(w.Records)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(outbox) != 1 || !bytes.Contains(outbox[0].Value, []byte(`"sending":true`)) || work != nDep-1 {
		t.Fatalf("A left %d outbox batches (%d work items); want its one batch marked as being sent and %d items", len(outbox), work, nDep-1)
	}
	if n := ce.rows(t, `PolicyComplianceStates_CL | where RunId == '`+cur.ID+`' | count`); len(n) != 1 || n[0][0] != float64(nStates) {
		t.Fatalf("rows A's batch put in the table: %v; want %d", n, nStates)
	}

	// B joins the run, reading through a recorder of its Policy Insights
	// requests and counting its uploads.
	st := &statesTransport{next: ce.opts.Transport}
	var bSends atomic.Int32
	opts := ce.collOpts
	opts.Owner, opts.OutboxLease = "replica-b", outboxLease
	opts.ARM.Transport = st
	opts.Upload = func(c context.Context, body []byte) error {
		bSends.Add(1)
		return ce.collOpts.Upload(c, body)
	}
	b, err := collector.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	run, err := b.RunOnce(runCtx, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("B finished A's run %.1f s after A was killed (outbox lease %s)", time.Since(killed).Seconds(), outboxLease)
	if run.ID != cur.ID || !run.Done || run.Collected != nDep || run.Failed != 0 || run.Rows != nDep*nStates || run.Uploaded != run.Batches {
		t.Fatalf("the run B finished: %+v (A's was %s)", run, cur.ID)
	}
	if n := int(bSends.Load()); n != run.Batches-1 {
		t.Errorf("B sent %d batches; want %d (every batch but A's)", n, run.Batches-1)
	}
	// B read the five deployments A had not, and not A's.
	for _, d := range deps {
		calls := len(st.calls(d.ManagedResourceGroupID))
		if strings.EqualFold(d.ApplicationID, aApps[0]) != (calls == 0) {
			t.Errorf("B made %d Policy Insights requests for %s (A collected %s)", calls, d.ApplicationID, aApps[0])
		}
	}
	left := 0
	if err := ce.s.Store.View(ctx, func(tx store.Tx) error {
		for _, table := range []string{"collector.outbox", "collector.work", "collector.failed"} {
			p, err := tx.Scan(ctx, table, store.Query{Prefix: run.ID + "/", Limit: 100, KeysOnly: true})
			if err != nil {
				return err
			}
			left += len(p.Records)
		}
		return nil
	}); err != nil || left != 0 {
		t.Fatalf("%d outbox batches, work items or failures left after the run (%v)", left, err)
	}

	// Every (deployment, assignment, resource) row once: none lost, none
	// twice.
	q := `PolicyComplianceStates_CL | where RunId == '` + run.ID + `'`
	if dup := ce.rows(t, q+` | summarize n = count() by ApplicationId, PolicyAssignmentId, ResourceId | where n != 1`); len(dup) != 0 {
		t.Errorf("%d (deployment, assignment, resource) rows not there exactly once; the first: %v", len(dup), dup[0])
	}
	perApp := ce.rows(t, q+` | summarize n = count(), r = dcount(ResourceId) by ApplicationId`)
	if len(perApp) != nDep {
		t.Fatalf("rows per application: %v; want %d applications", perApp, nDep)
	}
	for _, r := range perApp {
		if r[1] != float64(nStates) || r[2] != float64(nStates) {
			t.Errorf("rows of %v: %v rows, %v resources; want %d of each", r[0], r[1], r[2], nStates)
		}
	}
}

// collectorReplicaA is replica A: a collector on the shared store that
// reaches the parent's Steward over HTTPS, starts a run with one
// deployment per lease and one batch in flight at a time, signals the
// applications of its first batch once the ingestion API has accepted it,
// and blocks there, before the outbox records the acknowledgement, until
// it is killed.
func collectorReplicaA(cfg collectorChaos) {
	ctx := context.Background()
	pem, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		storetest.ChildExit("replica A:", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		storetest.ChildExit("replica A: no CA certificate in", cfg.CAFile)
	}
	st, err := store.Open(ctx, cfg.Store)
	if err != nil {
		storetest.ChildExit("replica A:", err)
	}
	o := sdkOptionsFor(cfg.BaseURL, cfg.ProxyURL, roots)
	cred, err := azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: o, DisableInstanceDiscovery: true})
	if err != nil {
		storetest.ChildExit("replica A:", err)
	}
	sdk, err := newCollectorSDK(cfg.BaseURL, cred, o, cfg.Endpoint, cfg.RuleID, cfg.Workspace)
	if err != nil {
		storetest.ChildExit("replica A:", err)
	}
	var once sync.Once
	c, err := collector.New(collector.Options{Store: st, Inventory: sdk.inventory, Owner: "replica-a", ARM: sdk.arm,
		Principal: func(string) (collector.Principal, error) {
			return collector.Principal{Name: cfg.ClientID, Credential: cred}, nil
		},
		Upload: func(ctx context.Context, body []byte) error {
			if err := sdk.upload(ctx, body); err != nil {
				return err
			}
			once.Do(func() {
				apps := url.Values{}
				for _, a := range batchApplications(body) {
					apps.Add("app", a)
				}
				resp, err := http.Get(cfg.Signal + "/sent?" + apps.Encode())
				if err != nil {
					storetest.ChildExit("replica A: signal:", err)
				}
				resp.Body.Close()
			})
			select {} // killed here: sent, not yet acknowledged
		},
		Verify: sdk.verify, Now: func() time.Time { return cfg.At }, Concurrency: 1, LeaseBatch: 1, OutboxLease: cfg.OutboxLease})
	if err != nil {
		storetest.ChildExit("replica A:", err)
	}
	_, err = c.RunOnce(ctx, true)
	storetest.ChildExit("replica A: the run returned:", err)
}

// batchApplications returns the distinct ApplicationIds of a gzipped
// upload batch.
func batchApplications(body []byte) []string {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		storetest.ChildExit("replica A: batch:", err)
	}
	var rows []collector.Row
	if err := json.NewDecoder(zr).Decode(&rows); err != nil {
		storetest.ChildExit("replica A: batch:", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		if !seen[r.ApplicationID] {
			seen[r.ApplicationID] = true
			out = append(out, r.ApplicationID)
		}
	}
	return out
}
