package collector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// SolutionsAPIVersion is the Microsoft.Solutions api-version the collector
// reads applications with (the latest stable one in the REST specs).
const SolutionsAPIVersion = "2021-07-01"

// subscriptionsAPIVersion reads a subscription's tenant.
const subscriptionsAPIVersion = "2022-12-01"

// Application is the part of a Microsoft.Solutions/applications resource
// the collector uses.
type Application struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Plan *struct {
		Name      string `json:"name"`
		Product   string `json:"product"`
		Publisher string `json:"publisher"`
		Version   string `json:"version"`
	} `json:"plan"`
	Properties struct {
		ManagedResourceGroupID string `json:"managedResourceGroupId"`
		ProvisioningState      string `json:"provisioningState"`
		PublisherTenantID      string `json:"publisherTenantId"`
		BillingDetails         *struct {
			ResourceUsageID string `json:"resourceUsageId"`
		} `json:"billingDetails"`
	} `json:"properties"`
}

// ErrApplicationNotFound is returned by Applications.Get when ARM answers
// 404: the application does not exist (or no longer does).
var ErrApplicationNotFound = errors.New("application not found")

// ErrApplicationNotVisible is returned by Applications.Get when ARM answers
// 403: the principal may not read the application. A publisher loses its
// access when the application is deleted (its authorization goes with it),
// so ARM answers 403, not 404, for a deleted customer application.
var ErrApplicationNotVisible = errors.New("application not accessible to this principal")

// StateInaccessible marks a recorded application the principal can no
// longer read; it is not collected.
const StateInaccessible = "Inaccessible"

// Applications reads managed applications through an azcore ARM pipeline
// (the Azure SDK for Go has no stable Microsoft.Solutions module in this
// build; the raw pipeline keeps authentication, retries and throttling the
// same as the SDK clients').
type Applications struct {
	client *azarm.Client
}

// NewApplications is an Applications client with cred and opts.
func NewApplications(cred azcore.TokenCredential, opts *azarm.ClientOptions) (*Applications, error) {
	c, err := azarm.NewClient("steward-collector", "v1.0.0", cred, opts)
	if err != nil {
		return nil, err
	}
	return &Applications{client: c}, nil
}

func (a *Applications) get(ctx context.Context, path, apiVersion string, out any) error {
	req, err := runtime.NewRequest(ctx, http.MethodGet, runtime.JoinPaths(a.client.Endpoint(), path))
	if err != nil {
		return err
	}
	q := req.Raw().URL.Query()
	q.Set("api-version", apiVersion)
	req.Raw().URL.RawQuery = q.Encode()
	req.Raw().Header.Set("Accept", "application/json")
	return a.send(req, out)
}

// Get reads the application with the given ID.
func (a *Applications) Get(ctx context.Context, id string) (Application, error) {
	var app Application
	err := a.get(ctx, id, SolutionsAPIVersion, &app)
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		return Application{}, ErrApplicationNotFound
	}
	if errors.As(err, &re) && re.StatusCode == http.StatusForbidden {
		return Application{}, ErrApplicationNotVisible
	}
	return app, err
}

// List lists the applications of a subscription that the credential can
// read.
func (a *Applications) List(ctx context.Context, subscriptionID string) ([]Application, error) {
	var out []Application
	next := "/subscriptions/" + url.PathEscape(subscriptionID) + "/providers/Microsoft.Solutions/applications"
	for pages := 0; next != "" && pages < 1000; pages++ {
		var page struct {
			Value    []Application `json:"value"`
			NextLink string        `json:"nextLink"`
		}
		var err error
		if strings.HasPrefix(next, "https://") || strings.HasPrefix(next, "http://") {
			err = a.getAbsolute(ctx, next, &page)
		} else {
			err = a.get(ctx, next, SolutionsAPIVersion, &page)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, page.Value...)
		next = page.NextLink
	}
	return out, nil
}

func (a *Applications) getAbsolute(ctx context.Context, link string, out any) error {
	req, err := runtime.NewRequest(ctx, http.MethodGet, link)
	if err != nil {
		return err
	}
	return a.send(req, out)
}

// send sends req through the client's pipeline and decodes the JSON
// answer into out; an answer other than 200 is an *azcore.ResponseError.
func (a *Applications) send(req *policy.Request, out any) error {
	resp, err := a.client.Pipeline().Do(req)
	if err != nil {
		return err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return runtime.NewResponseError(resp)
	}
	return runtime.UnmarshalAsJSON(resp, out)
}

// Subscriptions lists the IDs of the subscriptions the credential can see.
func (a *Applications) Subscriptions(ctx context.Context) ([]string, error) {
	var page struct {
		Value []struct {
			SubscriptionID string `json:"subscriptionId"`
		} `json:"value"`
	}
	if err := a.get(ctx, "/subscriptions", subscriptionsAPIVersion, &page); err != nil {
		return nil, err
	}
	var out []string
	for _, s := range page.Value {
		out = append(out, s.SubscriptionID)
	}
	return out, nil
}

// TenantOf returns the tenant of a subscription the credential can read,
// or "" when it cannot read it (a publisher usually reads only the managed
// resource group).
func (a *Applications) TenantOf(ctx context.Context, subscriptionID string) string {
	var sub struct {
		TenantID string `json:"tenantId"`
	}
	if err := a.get(ctx, "/subscriptions/"+url.PathEscape(subscriptionID), subscriptionsAPIVersion, &sub); err != nil {
		return ""
	}
	return sub.TenantID
}

// describe turns an application into the deployment it is.
func describe(app Application) (Deployment, error) {
	sub, rg, name, err := ParseApplicationID(app.ID)
	if err != nil {
		return Deployment{}, fmt.Errorf("ARM returned an application with ID '%s': %w", app.ID, err)
	}
	d := Deployment{ApplicationID: app.ID, SubscriptionID: sub, ResourceGroup: rg, Name: name,
		ManagedResourceGroupID: app.Properties.ManagedResourceGroupID, ProvisioningState: app.Properties.ProvisioningState}
	if app.Plan != nil {
		d.PlanName, d.PlanProduct, d.PlanPublisher, d.PlanVersion = app.Plan.Name, app.Plan.Product, app.Plan.Publisher, app.Plan.Version
	}
	if app.Properties.BillingDetails != nil {
		d.ResourceUsageID = app.Properties.BillingDetails.ResourceUsageID
	}
	return d, nil
}
