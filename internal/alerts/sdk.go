package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armsubscriptions"

	stewardarm "github.com/steward-gov/steward/internal/arm"
)

// SDKSource reads rules and action groups from Azure Resource Manager (or
// Steward's) with the Azure SDK for Go.
type SDKSource struct {
	Credential azcore.TokenCredential
	Options    *arm.ClientOptions
}

// Rules implements Source: every scheduled query rule of every
// subscription the credential can see.
func (s SDKSource) Rules(ctx context.Context) ([]RawResource, error) {
	subs, err := armsubscriptions.NewClient(s.Credential, s.Options)
	if err != nil {
		return nil, err
	}
	var out []RawResource
	pager := subs.NewListPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, sub := range page.Value {
			if sub.SubscriptionID == nil {
				continue
			}
			rules, err := armmonitor.NewScheduledQueryRulesClient(*sub.SubscriptionID, s.Credential, s.Options)
			if err != nil {
				return nil, err
			}
			rp := rules.NewListBySubscriptionPager(nil)
			for rp.More() {
				rpage, err := rp.NextPage(ctx)
				if err != nil {
					return nil, err
				}
				for _, r := range rpage.Value {
					b, err := json.Marshal(r)
					if err != nil {
						return nil, err
					}
					if r.ID != nil {
						out = append(out, RawResource{ID: *r.ID, Body: b})
					}
				}
			}
		}
	}
	return out, nil
}

// ActionGroup implements Source.
func (s SDKSource) ActionGroup(ctx context.Context, id string) ([]byte, error) {
	rid, err := stewardarm.ParseResourceID(id)
	if err != nil || rid.ResourceGroup == "" {
		return nil, fmt.Errorf("'%s' is not an action group ID", id)
	}
	c, err := armmonitor.NewActionGroupsClient(rid.SubscriptionID, s.Credential, s.Options)
	if err != nil {
		return nil, err
	}
	g, err := c.Get(ctx, rid.ResourceGroup, rid.Name(), nil)
	if err != nil {
		return nil, err
	}
	return json.Marshal(g.ActionGroupResource)
}

// SDKQuery runs queries through the Log Analytics query API with azlogs,
// resource-centric on the workspace's ARM ID.
func SDKQuery(cred azcore.TokenCredential, opts *azlogs.ClientOptions) (QueryFunc, error) {
	c, err := azlogs.NewClient(cred, opts)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, workspace, query string, start, end time.Time) (*Table, error) {
		span := azlogs.NewTimeInterval(start, end)
		resp, err := c.QueryResource(ctx, workspace, azlogs.QueryBody{Query: &query, Timespan: &span}, nil)
		if err != nil {
			return nil, err
		}
		if resp.Error != nil {
			return nil, resp.Error
		}
		if len(resp.Tables) == 0 {
			return nil, fmt.Errorf("the query returned no table")
		}
		if len(resp.Tables) > 1 {
			// a rule measures one table: which one it would be is not for us to guess
			return nil, fmt.Errorf("the query returned %d tables (fork, facet, funnel_sequence or several statements); an alert rule's query must return one table", len(resp.Tables))
		}
		t := resp.Tables[0]
		out := &Table{}
		for _, c := range t.Columns {
			col := Column{}
			if c.Name != nil {
				col.Name = *c.Name
			}
			if c.Type != nil {
				col.Type = strings.ToLower(string(*c.Type))
			}
			out.Columns = append(out.Columns, col)
		}
		for _, r := range t.Rows {
			out.Rows = append(out.Rows, []any(r))
		}
		return out, nil
	}, nil
}
