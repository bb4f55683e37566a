package authorization_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/rbac"
)

// Lists longer than a page follow nextLink, filtered or not.
func TestSDKListsPageThroughNextLink(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := "/subscriptions/" + e.sub
	const n = 230
	principal := uuid.NewString()
	for i := range n {
		p := uuid.NewString()
		if i%2 == 0 {
			p = principal
		}
		role := []string{rbac.ReaderRoleID, rbac.ContributorRoleID}[i%2]
		scope := fmt.Sprintf("%s/resourceGroups/rg%d", sub, i)
		if i%2 == 0 {
			scope = fmt.Sprintf("%s/resourceGroups/rg%d/providers/Microsoft.Web/sites/s", sub, i) // scopes need not exist for direct writes
		}
		doc := rbac.RoleAssignmentDocument(scope, role, p, rbac.PrincipalUser)
		if _, _, err := e.s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: doc["id"].(string), Type: cloud.TypeRoleAssignment, Doc: doc}); err != nil {
			t.Fatal(err)
		}
	}
	ras, _ := armauthorization.NewRoleAssignmentsClient(e.sub, e.cred, e.opts)
	count := func(filter string) (items, pages int) {
		pager := ras.NewListForSubscriptionPager(&armauthorization.RoleAssignmentsClientListForSubscriptionOptions{Filter: to.Ptr(filter)})
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			items += len(page.Value)
			pages++
		}
		return items, pages
	}
	if items, pages := count(""); items != n+1 || pages < 3 {
		t.Errorf("all: %d items in %d pages, want %d in 3+", items, pages, n+1)
	}
	if items, _ := count("principalId eq '" + principal + "'"); items != n/2 {
		t.Errorf("one principal's: %d, want %d", items, n/2)
	}
}

// Writes decided while assignments change see either the old or the new
// set, never a broken one (run with -race).
func TestEnforcementWhileAssignmentsChange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := "/subscriptions/" + e.sub
	if r, b := e.do(t, "PUT", sub+"/resourceGroups/rg?api-version=2021-04-01", []byte(`{"location":"westeurope"}`)); r.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", r.StatusCode, b)
	}
	defs, _ := armpolicy.NewDefinitionsClient(e.sub, e.cred, e.opts)
	if _, err := defs.CreateOrUpdate(ctx, "allowed-locations", definition(t, allowedLocations), nil); err != nil {
		t.Fatal(err)
	}
	pas, _ := armpolicy.NewAssignmentsClient(e.sub, e.cred, e.opts)
	var wg sync.WaitGroup
	wg.Add(2)
	errs := make(chan error, 64)
	go func() {
		defer wg.Done()
		for i := range 20 {
			_, err := pas.Create(ctx, sub[1:], fmt.Sprintf("a%d", i), armpolicy.Assignment{Properties: &armpolicy.AssignmentProperties{
				PolicyDefinitionID: to.Ptr(sub + "/providers/Microsoft.Authorization/policyDefinitions/allowed-locations"),
				Parameters:         params("listOfAllowedLocations", []any{"westeurope"})}}, nil)
			if err != nil {
				errs <- err
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := range 20 {
			r, b := e.do(t, "PUT", fmt.Sprintf("%s/resourceGroups/rg/providers/Microsoft.Web/sites/s%d?api-version=2023-01-01", sub, i), []byte(`{"location":"westeurope"}`))
			if r.StatusCode != http.StatusCreated {
				errs <- fmt.Errorf("%d %s", r.StatusCode, b)
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, body := e.putResource(t, sub+"/resourceGroups/rg/providers/Microsoft.Web/sites/late", "eastus"); got != http.StatusForbidden {
		t.Errorf("after the changes: %d %s", got, body)
	}
}
