package cloud_test

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/managementgroups/armmanagementgroups"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armsubscriptions"
)

func TestSDKSubscriptionsAndManagementGroups(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	subs, err := armsubscriptions.NewClient(e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := subs.Get(ctx, e.sub, nil)
	if err != nil || *s.SubscriptionID != e.sub || *s.TenantID != e.s.Bootstrap.TenantID || string(*s.State) != "Enabled" ||
		*s.ID != "/subscriptions/"+e.sub {
		t.Fatalf("get subscription: %+v %v", s, err)
	}
	var listed []string
	for pager := subs.NewListPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range page.Value {
			listed = append(listed, *x.SubscriptionID)
		}
	}
	if len(listed) != 1 || listed[0] != e.sub {
		t.Errorf("subscriptions listed: %v", listed)
	}

	mgs, err := armmanagementgroups.NewClient(e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	create := func(name, parent string) armmanagementgroups.ManagementGroup {
		t.Helper()
		req := armmanagementgroups.CreateManagementGroupRequest{Properties: &armmanagementgroups.CreateManagementGroupProperties{
			DisplayName: to.Ptr(strings.ToUpper(name))}}
		if parent != "" {
			req.Properties.Details = &armmanagementgroups.CreateManagementGroupDetails{Parent: &armmanagementgroups.CreateParentGroupInfo{
				ID: to.Ptr("/providers/Microsoft.Management/managementGroups/" + parent)}}
		}
		p, err := mgs.BeginCreateOrUpdate(ctx, name, req, &armmanagementgroups.ClientBeginCreateOrUpdateOptions{CacheControl: to.Ptr("no-cache")})
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.PollUntilDone(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r.ManagementGroup
	}
	corp := create("corp", "")
	if *corp.Name != "corp" || *corp.Type != "Microsoft.Management/managementGroups" || *corp.Properties.DisplayName != "CORP" ||
		*corp.Properties.Details.Parent.Name != e.s.Bootstrap.TenantID {
		t.Fatalf("corp: %+v", corp.Properties.Details.Parent)
	}
	online := create("online", "corp")
	if *online.Properties.Details.Parent.Name != "corp" {
		t.Errorf("online's parent: %+v", online.Properties.Details.Parent)
	}
	mgSubs, err := armmanagementgroups.NewManagementGroupSubscriptionsClient(e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	placed, err := mgSubs.Create(ctx, "online", e.sub, nil)
	if err != nil || *placed.Name != e.sub || *placed.Properties.Parent.ID != "/providers/Microsoft.Management/managementGroups/online" {
		t.Fatalf("place subscription: %+v %v", placed, err)
	}
	var names []string
	for pager := mgs.NewListPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range page.Value {
			names = append(names, *g.Name)
		}
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); len(names) != 3 || !strings.Contains(got, "corp") || !strings.Contains(got, "online") ||
		!strings.Contains(got, e.s.Bootstrap.TenantID) {
		t.Errorf("management groups listed: %v", names)
	}
	if _, err := mgs.BeginDelete(ctx, "corp", nil); err == nil {
		t.Error("deleted a group with a child group")
	} else {
		wantCode(t, err, http.StatusBadRequest, "ManagementGroupHasChildren")
	}
	if _, err := mgSubs.Delete(ctx, "online", e.sub, nil); err != nil {
		t.Fatal(err)
	}
	p, err := mgs.BeginDelete(ctx, "online", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}
	_, err = mgs.Get(ctx, "online", nil)
	wantCode(t, err, http.StatusNotFound, "NotFound")
}
