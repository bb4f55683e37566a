// Package solutions is the Microsoft.Solutions resource provider of the
// embedded ARM: managed application definitions and managed applications.
//
// A definition holds the publisher's package (an inline mainTemplate and
// createUiDefinition), the publisher's authorizations, the policies to
// assign, the lock level and the notification endpoint. Creating an
// application from it does what Azure's Appliance resource provider does:
// it creates the managed resource group, deploys the mainTemplate there
// through the embedded template deployments, assigns the policies, grants
// the publisher's principals (possibly of another tenant) their roles,
// applies the deny assignment that keeps the customer to what the lock
// level allows, and tells the publisher's endpoint through a durable
// outbox. Deleting the application removes all of it.
//
// The provider acts with an identity of its own (ProviderObjectID), which
// holds Owner on every managed resource group it creates and is excluded
// from its deny assignment, so that nothing it does depends on the rights
// of the customer beyond writing the application itself.
package solutions

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/identity"
)

// Resource types of the provider.
const (
	TypeDefinition  = "Microsoft.Solutions/applicationDefinitions"
	TypeApplication = "Microsoft.Solutions/applications"
	TypeOperation   = "Microsoft.Solutions/applications/operationStatuses"
)

// APIVersions are the published api-versions of Microsoft.Solutions
// applications and applicationDefinitions (the Learn template reference's
// change log); 2021-07-01 is the newest stable one and the shape served.
var APIVersions = []string{
	"2017-09-01", "2017-12-01", "2018-02-01", "2018-03-01", "2018-06-01", "2018-09-01-preview",
	"2019-07-01", "2020-08-21-preview", "2021-02-01-preview", "2021-07-01", "2023-12-01-preview",
}

// ProviderObjectID is the object ID of the principal the provider acts as
// in the managed resource groups (a fixed GUID of Steward's: Azure's
// Appliance resource provider is a first-party application that tenants
// do not see).
const ProviderObjectID = "5c0a1f0e-7d3b-4f55-9c8e-0a9b5f2a51e7"

// Options configure the provider.
type Options struct {
	// Client delivers notifications (default: a client with a 30 s
	// timeout that does not follow redirects).
	Client *http.Client
	// Retry is the notification retry schedule (default DefaultRetry).
	Retry RetryPolicy
	// Poll is how often the outbox looks for due notifications (default
	// 2 s).
	Poll time.Duration
	// Logger receives delivery failures and provisioning errors.
	Logger *slog.Logger
}

// Provider serves Microsoft.Solutions on a Cloud.
type Provider struct {
	c    *cloud.Cloud
	opts Options
	log  *slog.Logger
	// kick wakes the outbox when a notification is queued.
	kick chan struct{}
}

// Register adds the provider's routes and hooks to c. Call Start to
// deliver notifications.
func Register(c *cloud.Cloud, opts Options) (*Provider, error) {
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if opts.Retry.Base <= 0 {
		opts.Retry.Base = DefaultRetry.Base
	}
	if opts.Retry.Max < opts.Retry.Base {
		opts.Retry.Max = max(DefaultRetry.Max, opts.Retry.Base)
	}
	if opts.Retry.GiveUp <= 0 {
		opts.Retry.GiveUp = DefaultRetry.GiveUp
	}
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	p := &Provider{c: c, opts: opts, log: opts.Logger, kick: make(chan struct{}, 1)}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if err := c.Register(p); err != nil {
		return nil, err
	}
	c.OnPut(TypeDefinition, p.definitionHook)
	c.OnPut(TypeApplication, p.applicationHook)
	c.OnDelete(TypeApplication, p.onDelete)
	return p, nil
}

// Routes implements cloud.Provider.
func (p *Provider) Routes() []cloud.Route {
	return []cloud.Route{
		{Type: TypeDefinition, APIVersions: APIVersions, Handler: p.c.ServeGeneric},
		{Type: TypeApplication, APIVersions: APIVersions, Handler: p.serveApplication, SelfAuthorize: true},
		{Type: TypeOperation, APIVersions: APIVersions, Handler: p.serveOperation},
	}
}

// principal is the identity the provider acts as.
func (p *Provider) principal() identity.Principal {
	return identity.Principal{ObjectID: ProviderObjectID, TenantID: p.c.TenantID(), AppID: ProviderObjectID, IdentityType: "app"}
}

// serveApplication dispatches the application requests.
func (p *Provider) serveApplication(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t := call.Target
	if t.Action != "" {
		call.SkipAuthorization()
		return nil, arm.BadRequest("InvalidResourceType", "The action '%s' is not supported on managed applications by Steward.", t.Action)
	}
	if t.Collection {
		if call.Method != http.MethodGet {
			call.SkipAuthorization()
			return nil, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Use GET to list applications.")
		}
		return p.listApplications(ctx, call)
	}
	switch call.Method {
	case http.MethodGet, http.MethodHead:
		return p.getApplication(ctx, call)
	case http.MethodPut:
		if err := call.Authorize(ctx, TypeApplication+"/write", t.ID); err != nil {
			return nil, err
		}
		return p.putApplication(ctx, call)
	case http.MethodPatch:
		if err := call.Authorize(ctx, TypeApplication+"/write", t.ID); err != nil {
			return nil, err
		}
		return p.patchApplication(ctx, call)
	case http.MethodDelete:
		if err := call.Authorize(ctx, TypeApplication+"/delete", t.ID); err != nil {
			return nil, err
		}
		return p.deleteApplication(ctx, call)
	}
	call.SkipAuthorization()
	return nil, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The method %s is not allowed on managed applications.", call.Method)
}
