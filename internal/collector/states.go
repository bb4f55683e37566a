package collector

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"

	"github.com/steward-gov/steward/internal/arm"
)

// selectColumns are the policy state columns the collector reads ($select).
const selectColumns = "Timestamp, ResourceId, ResourceType, PolicyAssignmentId, PolicyAssignmentName, " +
	"PolicyDefinitionId, PolicyDefinitionReferenceId, PolicySetDefinitionId, ComplianceState, IsCompliant, ManagementGroupIds"

// maxPages bounds one deployment's paging (1000 states a page).
const maxPages = 1000

// statesReader reads policy states with one principal's clients.
type statesReader struct {
	states *armpolicyinsights.PolicyStatesClient
	raw    *azarm.Client
}

func newStatesReader(cred azcore.TokenCredential, opts *azarm.ClientOptions) (*statesReader, error) {
	s, err := armpolicyinsights.NewPolicyStatesClient(cred, opts)
	if err != nil {
		return nil, err
	}
	raw, err := azarm.NewClient("steward-collector", "v1.0.0", cred, opts)
	if err != nil {
		return nil, err
	}
	return &statesReader{states: s, raw: raw}, nil
}

// read returns the latest policy states of the assignments made at the
// deployment's managed resource group (the application's own: the seed's
// PolicyAssignmentScope filter), evaluated in [from, to]. The first page
// comes from the SDK client; the next ones are POSTs of @odata.nextLink,
// as the service requires (the SDK's pager would GET them, which Azure
// refuses after the first 1,000 states). No $top is sent: it is the
// maximum number of records of the whole query, not a page size, so any
// value would cut off a managed resource group with more states; the
// service pages at 1,000 by itself.
func (r *statesReader) read(ctx context.Context, d Deployment, from, to time.Time) ([]*armpolicyinsights.PolicyState, error) {
	mrg, err := arm.ParseResourceID(d.ManagedResourceGroupID)
	if err != nil || mrg.ResourceGroup == "" || mrg.Namespace != "" {
		return nil, fmt.Errorf("managed resource group '%s' is not a resource group ID", d.ManagedResourceGroupID)
	}
	filter := fmt.Sprintf("PolicyAssignmentScope eq '%s'", strings.ReplaceAll(d.ManagedResourceGroupID, "'", "''"))
	q := &armpolicyinsights.QueryOptions{Filter: &filter, From: &from, To: &to, Select: toPtr(selectColumns)}
	pager := r.states.NewListQueryResultsForResourceGroupPager(armpolicyinsights.PolicyStatesResourceLatest,
		mrg.SubscriptionID, mrg.ResourceGroup, q, nil)
	page, err := pager.NextPage(ctx)
	if err != nil {
		return nil, err
	}
	out := page.Value
	next := page.ODataNextLink
	for pages := 1; next != nil && *next != ""; pages++ {
		if pages >= maxPages {
			return nil, fmt.Errorf("more than %d pages of policy states at %s", maxPages, d.ManagedResourceGroupID)
		}
		res, err := r.postNext(ctx, *next)
		if err != nil {
			return nil, err
		}
		out = append(out, res.Value...)
		next = res.ODataNextLink
	}
	return out, nil
}

func toPtr(s string) *string { return to.Ptr(s) }

func (r *statesReader) postNext(ctx context.Context, link string) (armpolicyinsights.PolicyStatesQueryResults, error) {
	var res armpolicyinsights.PolicyStatesQueryResults
	req, err := runtime.NewRequest(ctx, http.MethodPost, link)
	if err != nil {
		return res, err
	}
	req.Raw().Header.Set("Accept", "application/json")
	resp, err := r.raw.Pipeline().Do(req)
	if err != nil {
		return res, err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return res, runtime.NewResponseError(resp)
	}
	err = runtime.UnmarshalAsJSON(resp, &res)
	return res, err
}
