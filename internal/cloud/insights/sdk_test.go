package insights_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"

	"github.com/steward-gov/steward/internal/cloud/insights"
)

// TestSDKQueryResultsPagingBeyond1000 writes 1,150 resources under an
// audit assignment (each evaluated by the write hook), then pages the
// subscription's states with the unmodified SDK: the first page holds
// 1,000 records, the SDK pager's GET of the nextLink fails as it does on
// Azure, and the nextLink's $skiptoken given back through QueryOptions
// (a POST) returns the rest.
func TestSDKQueryResultsPagingBeyond1000(t *testing.T) {
	e := newEnv(t, insights.Options{})
	ctx := context.Background()
	e.put(t, e.rg("bulk"), "2021-04-01", map[string]any{"location": "westeurope"})
	def := e.httpsDefinition(t, "secure-transfer")
	e.assign(t, "/subscriptions/"+e.sub, "audit-https", def, nil)
	e.waitIdle(t)
	const n = 1150
	for i := range n {
		e.storage(t, "bulk", fmt.Sprintf("sa%04d", i), i%3 == 0)
	}
	client, err := armpolicyinsights.NewPolicyStatesClient(e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	pager := client.NewListQueryResultsForSubscriptionPager(armpolicyinsights.PolicyStatesResourceLatest, e.sub, nil, nil)
	first, err := pager.NextPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Value) != insights.PageSize || *first.ODataCount != int32(insights.PageSize) || first.ODataNextLink == nil {
		t.Fatalf("first page: %d records, count %v, nextLink %v", len(first.Value), first.ODataCount, first.ODataNextLink)
	}
	_, err = pager.NextPage(ctx)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound || re.ErrorCode != "ResourceTypeNotSupported" {
		t.Fatalf("GET of the nextLink: %v, want 404 ResourceTypeNotSupported as on Azure", err)
	}
	seen := map[string]bool{}
	nonCompliant := 0
	add := func(states []*armpolicyinsights.PolicyState) {
		for _, s := range states {
			if seen[*s.ResourceID] {
				t.Fatalf("%s returned twice", *s.ResourceID)
			}
			seen[*s.ResourceID] = true
			if *s.ComplianceState == "NonCompliant" {
				nonCompliant++
				if *s.IsCompliant {
					t.Errorf("%s: isCompliant true for a non-compliant state", *s.ResourceID)
				}
			}
		}
	}
	add(first.Value)
	next := first.ODataNextLink
	for pages := 1; next != nil && *next != ""; pages++ {
		u, err := url.Parse(*next)
		if err != nil {
			t.Fatal(err)
		}
		skip := u.Query().Get("$skiptoken")
		p := client.NewListQueryResultsForSubscriptionPager(armpolicyinsights.PolicyStatesResourceLatest, e.sub,
			&armpolicyinsights.QueryOptions{SkipToken: to.Ptr(skip)}, nil)
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		add(page.Value)
		next = page.ODataNextLink
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct resources, want %d", len(seen), n)
	}
	if want := n - (n+2)/3; nonCompliant != want {
		t.Errorf("%d non-compliant, want %d", nonCompliant, want)
	}
	// The spec's own way: POST the nextLink through the SDK's pipeline.
	armClient, err := azarm.NewClient("insights.test", "v0.0.1", e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	req, err := runtime.NewRequest(ctx, http.MethodPost, *first.ODataNextLink)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := armClient.Pipeline().Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST nextLink: %v %v", resp, err)
	}
	var rest armpolicyinsights.PolicyStatesQueryResults
	if err := runtime.UnmarshalAsJSON(resp, &rest); err != nil || len(rest.Value) != n-insights.PageSize {
		t.Fatalf("POST nextLink: %d records, %v", len(rest.Value), err)
	}
}

// TestSDKFiltersApplyAndSelect checks the OData options through the SDK.
func TestSDKFiltersApplyAndSelect(t *testing.T) {
	e := newEnv(t, insights.Options{})
	ctx := context.Background()
	e.put(t, e.rg("a"), "2021-04-01", map[string]any{"location": "westeurope"})
	e.put(t, e.rg("b"), "2021-04-01", map[string]any{"location": "westeurope"})
	def := e.httpsDefinition(t, "secure-transfer")
	audit := e.assign(t, "/subscriptions/"+e.sub, "audit-https", def, nil)
	deny := e.assign(t, e.rg("b"), "deny-https", def, map[string]any{"enforcementMode": "DoNotEnforce",
		"parameters": map[string]any{"effect": map[string]any{"value": "Deny"}}})
	e.waitIdle(t)
	e.storage(t, "a", "good", true)
	e.storage(t, "a", "bad", false)
	e.storage(t, "b", "worse", false)
	client, _ := armpolicyinsights.NewPolicyStatesClient(e.cred, e.opts)
	query := func(o *armpolicyinsights.QueryOptions) []*armpolicyinsights.PolicyState {
		t.Helper()
		p := client.NewListQueryResultsForSubscriptionPager(armpolicyinsights.PolicyStatesResourceLatest, e.sub, o, nil)
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return page.Value
	}
	names := func(states []*armpolicyinsights.PolicyState) string {
		var out []string
		for _, s := range states {
			out = append(out, lastSegment(*s.ResourceID)+"/"+*s.PolicyAssignmentName+"/"+*s.ComplianceState)
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	if got := names(query(nil)); got != "bad/audit-https/NonCompliant good/audit-https/Compliant worse/audit-https/NonCompliant worse/deny-https/NonCompliant" {
		t.Errorf("all states: %s", got)
	}
	cases := []struct{ filter, want string }{
		{"IsCompliant eq false and PolicyDefinitionAction eq 'deny'", "worse/deny-https/NonCompliant"},
		{"ComplianceState eq 'Compliant' or ResourceGroup eq 'B' and PolicyAssignmentName ne 'audit-https'",
			"good/audit-https/Compliant worse/deny-https/NonCompliant"},
		{"not (ResourceGroup eq 'a') and (PolicyDefinitionAction eq 'audit')", "worse/audit-https/NonCompliant"},
		{"PolicyAssignmentId eq '" + strings.ToUpper(deny) + "'", "worse/deny-https/NonCompliant"},
		{"Timestamp lt 2000-01-01T00:00:00Z", ""},
		{"startswith(ResourceId, '" + e.rg("a") + "') and IsCompliant eq true", "good/audit-https/Compliant"},
	}
	for _, c := range cases {
		if got := names(query(&armpolicyinsights.QueryOptions{Filter: to.Ptr(c.filter)})); got != c.want {
			t.Errorf("$filter=%s: %q, want %q", c.filter, got, c.want)
		}
	}
	sel := query(&armpolicyinsights.QueryOptions{Select: to.Ptr("ResourceId, ComplianceState"),
		OrderBy: to.Ptr("ResourceId asc, PolicyAssignmentId desc"), Top: to.Ptr[int32](3)})
	if len(sel) != 3 || sel[0].PolicyAssignmentID != nil || !strings.HasSuffix(*sel[0].ResourceID, "/bad") ||
		!strings.HasSuffix(*sel[2].ResourceID, "/worse") {
		t.Errorf("$select/$orderby/$top: %+v", sel)
	}
	grouped := query(&armpolicyinsights.QueryOptions{Filter: to.Ptr("IsCompliant eq false"),
		Apply:   to.Ptr("groupby((PolicyAssignmentId, PolicyDefinitionAction), aggregate($count as NumStates))"),
		OrderBy: to.Ptr("NumStates desc")})
	if len(grouped) != 2 || grouped[0].AdditionalProperties["NumStates"] != float64(2) ||
		!strings.EqualFold(*grouped[0].PolicyAssignmentID, audit) {
		t.Errorf("$apply groupby: %d rows %+v", len(grouped), grouped)
	}
	count := query(&armpolicyinsights.QueryOptions{Filter: to.Ptr("PolicyDefinitionAction eq 'deny'"),
		Apply: to.Ptr("aggregate($count as NumDenyStates)")})
	if len(count) != 1 || count[0].AdditionalProperties["NumDenyStates"] != float64(1) {
		t.Errorf("$apply aggregate: %+v", count)
	}
	_, err := client.NewListQueryResultsForSubscriptionPager(armpolicyinsights.PolicyStatesResourceLatest, e.sub,
		&armpolicyinsights.QueryOptions{Filter: to.Ptr("IsCompliant eq")}, nil).NextPage(ctx)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest || re.ErrorCode != "InvalidQueryParameterValue" {
		t.Errorf("malformed $filter: %v", err)
	}
}

// TestSDKSummarize checks the summary counts per scope, assignment and
// definition.
func TestSDKSummarize(t *testing.T) {
	e := newEnv(t, insights.Options{})
	ctx := context.Background()
	e.put(t, e.rg("a"), "2021-04-01", map[string]any{"location": "westeurope"})
	def := e.httpsDefinition(t, "secure-transfer")
	e.assign(t, "/subscriptions/"+e.sub, "audit-https", def, nil)
	e.waitIdle(t)
	e.storage(t, "a", "good", true)
	e.storage(t, "a", "bad1", false)
	e.storage(t, "a", "bad2", false)
	client, _ := armpolicyinsights.NewPolicyStatesClient(e.cred, e.opts)
	res, err := client.SummarizeForResourceGroup(ctx, armpolicyinsights.PolicyStatesSummaryResourceTypeLatest, e.sub, "a", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Value) != 1 {
		t.Fatalf("%d summaries", len(res.Value))
	}
	s := res.Value[0]
	if *s.Results.NonCompliantResources != 2 || *s.Results.NonCompliantPolicies != 1 || len(s.PolicyAssignments) != 1 {
		t.Fatalf("summary: %+v", s.Results)
	}
	details := map[string]int32{}
	for _, d := range s.Results.ResourceDetails {
		details[*d.ComplianceState] = *d.Count
	}
	if details["compliant"] != 1 || details["noncompliant"] != 2 {
		t.Errorf("resource details %v", details)
	}
	pa := s.PolicyAssignments[0]
	if len(pa.PolicyDefinitions) != 1 || *pa.PolicyDefinitions[0].Effect != "audit" ||
		*pa.PolicyDefinitions[0].Results.NonCompliantResources != 2 {
		t.Errorf("assignment summary %+v", pa)
	}
	if !strings.Contains(*pa.Results.QueryResultsURI, "queryResults") {
		t.Errorf("queryResultsUri %s", *pa.Results.QueryResultsURI)
	}
}

// TestSDKTriggerEvaluation runs a subscription scan through the SDK's
// poller: 202 and Location, 202 while it runs, 200 when it is done; an
// assignment changed behind the engine's back is then reflected.
func TestSDKTriggerEvaluation(t *testing.T) {
	e := newEnv(t, insights.Options{})
	ctx := context.Background()
	e.put(t, e.rg("a"), "2021-04-01", map[string]any{"location": "westeurope"})
	e.storage(t, "a", "bad", false)
	def := e.httpsDefinition(t, "secure-transfer")
	e.assign(t, e.rg("a"), "audit-https", def, nil)
	client, _ := armpolicyinsights.NewPolicyStatesClient(e.cred, e.opts)
	poller, err := client.BeginTriggerSubscriptionEvaluation(ctx, e.sub, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	p := client.NewListQueryResultsForResourcePager(armpolicyinsights.PolicyStatesResourceLatest, e.rg("a")+"/providers/Microsoft.Web/sites/bad",
		&armpolicyinsights.QueryOptions{Expand: to.Ptr("PolicyEvaluationDetails")}, nil)
	page, err := p.NextPage(ctx)
	if err != nil || len(page.Value) != 1 || *page.Value[0].ComplianceState != "NonCompliant" {
		t.Fatalf("after the scan: %+v %v", page.Value, err)
	}
	if d := page.Value[0].PolicyEvaluationDetails; d == nil || len(d.EvaluatedExpressions) == 0 {
		t.Errorf("no evaluation details")
	}
	rgPoller, err := client.BeginTriggerResourceGroupEvaluation(ctx, e.sub, "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rgPoller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	_, err = client.BeginTriggerResourceGroupEvaluation(ctx, e.sub, "missing", nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		t.Errorf("trigger on a missing group: %v", err)
	}
}

func lastSegment(id string) string { return id[strings.LastIndexByte(id, '/')+1:] }
