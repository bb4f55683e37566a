package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/steward-gov/steward/internal/collector"
)

// statesTransport records the Policy Insights requests the collector
// makes, and holds the requests of one managed resource group until their
// context ends.
type statesTransport struct {
	next policy.Transporter
	mu   sync.Mutex
	hang string
	seen []statesCall
}

type statesCall struct {
	method string
	url    *url.URL
}

func (s *statesTransport) Do(req *http.Request) (*http.Response, error) {
	path := strings.ToLower(req.URL.Path)
	s.mu.Lock()
	hang := s.hang
	if strings.Contains(path, "/providers/microsoft.policyinsights/") {
		s.seen = append(s.seen, statesCall{req.Method, req.URL})
	}
	s.mu.Unlock()
	if hang != "" && strings.HasPrefix(path, hang) {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	return s.next.Do(req)
}

func (s *statesTransport) calls(mrg string) []statesCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []statesCall
	for _, c := range s.seen {
		if strings.HasPrefix(strings.ToLower(c.url.Path), strings.ToLower(mrg)+"/") {
			out = append(out, c)
		}
	}
	return out
}

// TestCollectorPagesAndIsolatesFailures: a run reads every one of a
// managed resource group's 1,100 states, POSTing each page (the first
// with explicit $from, $to, $select and the application's assignment
// scope, the next at its nextLink); a deployment ARM
// does not know and one whose requests hang past the per-deployment
// deadline fail alone while the others' rows all arrive; a finished run
// is not repeated before the interval, and the schedule starts the next
// one after it.
func TestCollectorPagesAndIsolatesFailures(t *testing.T) {
	ce := newCollectorEnv(t)
	ctx := context.Background()
	deps := benchWorld(t, ce, 4, 1100, 2)
	missing := collector.Deployment{ApplicationID: "/subscriptions/" + ce.sub + "/resourceGroups/apps/providers/Microsoft.Solutions/applications/missing",
		TenantID: ce.info.TenantID, SubscriptionID: ce.sub, ResourceGroup: "apps", Name: "missing",
		ManagedResourceGroupID: "/subscriptions/" + ce.sub + "/resourceGroups/mrg-missing", ProvisioningState: collector.StateSucceeded}
	if err := ce.inventory.Put(ctx, missing); err != nil {
		t.Fatal(err)
	}
	hung := deps[3]
	st := &statesTransport{next: ce.s.Transport(), hang: strings.ToLower(hung.ManagedResourceGroupID) + "/"}
	opts := ce.collOpts
	opts.ARM = azarm.ClientOptions{ClientOptions: ce.s.ARMClientOptions()}
	opts.ARM.Transport = st
	opts.Owner, opts.MaxAttempts, opts.DeploymentTimeout = "paging", 1, 15*time.Second
	c, err := collector.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Truncate(time.Second)
	ce.clock.Set(start)
	run, err := c.RunOnce(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if run.Deployments != 5 || run.Collected != 3 || run.Failed != 2 || run.Rows != 3300 || run.Uploaded != run.Batches {
		t.Fatalf("run: %+v", run)
	}
	failures, err := c.Failures(ctx, run.ID)
	if err != nil || len(failures) != 2 {
		t.Fatalf("failures: %+v %v", failures, err)
	}
	failed := map[string]bool{}
	for _, f := range failures {
		failed[strings.ToLower(f.ApplicationID)] = true
	}
	if !failed[strings.ToLower(missing.ApplicationID)] || !failed[strings.ToLower(hung.ApplicationID)] {
		t.Fatalf("failures: %+v", failures)
	}
	// Every healthy deployment's 1,100 states arrived.
	got := ce.rows(t, `PolicyComplianceStates_CL | where RunId == '`+run.ID+`' | summarize n = dcount(RecordId) by ApplicationId`)
	if len(got) != 3 {
		t.Fatalf("rows per application: %v", got)
	}
	for _, r := range got {
		if r[1] != 1100.0 || strings.EqualFold(r[0].(string), hung.ApplicationID) {
			t.Errorf("rows per application: %v", got)
		}
	}
	// Two POSTed pages per deployment (the service's 1,000 states, then
	// 100 at the nextLink), no GET; the first names the window, the
	// columns and the application's scope, and no $top (which would cap
	// the whole query).
	for _, d := range deps[:3] {
		calls := st.calls(d.ManagedResourceGroupID)
		if len(calls) != 2 {
			t.Fatalf("%s: %d Policy Insights requests, want 2", d.ManagedResourceGroupID, len(calls))
		}
		for _, call := range calls {
			if call.method != http.MethodPost || !strings.HasSuffix(strings.ToLower(call.url.Path), "/policystates/latest/queryresults") {
				t.Errorf("%s %s", call.method, call.url)
			}
		}
		q := calls[0].url.Query()
		from, ferr := time.Parse(time.RFC3339, q.Get("$from"))
		to, terr := time.Parse(time.RFC3339, q.Get("$to"))
		if ferr != nil || terr != nil || !to.Equal(start) || !from.Equal(start.Add(-72*time.Hour)) || q.Has("$top") ||
			!strings.Contains(q.Get("$select"), "ComplianceState") ||
			!strings.EqualFold(q.Get("$filter"), "PolicyAssignmentScope eq '"+d.ManagedResourceGroupID+"'") {
			t.Errorf("first page's query: %v", q)
		}
	}

	// Within the interval (6 hours) no run is due; after it, the schedule
	// starts the next one, which collects the deployment that hung.
	if _, err := c.Start(ctx, false); !errors.Is(err, collector.ErrNotDue) {
		t.Fatalf("a run started within the interval: %v", err)
	}
	st.mu.Lock()
	st.hang = ""
	st.mu.Unlock()
	ce.clock.Set(start.Add(6*time.Hour + time.Second))
	next, err := c.Start(ctx, false)
	if err != nil || next.ID == run.ID {
		t.Fatalf("the scheduled run: %+v %v", next, err)
	}
	if next, err = c.Work(ctx, next); err != nil || next.Collected != 4 || next.Failed != 1 || next.Rows != 4400 {
		t.Fatalf("the scheduled run: %+v %v", next, err)
	}
}
