// Package storageaccounts is the Microsoft.Storage resource provider of
// the embedded ARM: storage accounts with the Storage provider's own
// status codes (a create is a long-running operation answering 202 and a
// Location to poll), Azure's properties, checkNameAvailability, the two
// access keys (listKeys, regenerateKey) and the SAS tokens Azure computes
// for a caller (ListServiceSas, ListAccountSas). The accounts' data plane
// is internal/storage, which keeps their keys sealed.
package storageaccounts

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/storage"
)

// Resource types of the provider.
const (
	TypeAccount        = "Microsoft.Storage/storageAccounts"
	TypeCheckName      = "Microsoft.Storage/checkNameAvailability"
	TypeAsyncOperation = "Microsoft.Storage/locations/asyncoperations"
)

// Options configure the provider.
type Options struct {
	// TableEndpoint returns the Table service URL of an account, as
	// primaryEndpoints.table shows it (default: Azure's form).
	TableEndpoint func(account string) string
	// Logger receives failures; never keys.
	Logger *slog.Logger
}

// Provider serves Microsoft.Storage on a Cloud.
type Provider struct {
	c    *cloud.Cloud
	svc  *storage.Service
	opts Options
	log  *slog.Logger
}

// Register adds the provider's routes and hooks to c, with svc as the
// accounts' data plane.
func Register(c *cloud.Cloud, svc *storage.Service, opts Options) (*Provider, error) {
	if opts.TableEndpoint == nil {
		opts.TableEndpoint = func(a string) string { return "https://" + a + ".table.core.windows.net/" }
	}
	p := &Provider{c: c, svc: svc, opts: opts, log: opts.Logger}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if err := c.Register(p); err != nil {
		return nil, err
	}
	c.OnPut(TypeAccount, p.putHook)
	c.OnDelete(TypeAccount, p.deleteHook)
	return p, nil
}

// Routes implements cloud.Provider.
func (p *Provider) Routes() []cloud.Route {
	return []cloud.Route{
		{Type: TypeAccount, Handler: p.serveAccount},
		{Type: TypeAccount, Action: "listKeys", Handler: p.listKeys},
		{Type: TypeAccount, Action: "regenerateKey", Handler: p.regenerateKey},
		{Type: TypeAccount, Action: "ListServiceSas", Handler: p.listServiceSas},
		{Type: TypeAccount, Action: "ListAccountSas", Handler: p.listAccountSas},
		{Type: TypeCheckName, Handler: p.checkName, SelfAuthorize: true},
		{Type: TypeAsyncOperation, Handler: p.pollOperation},
	}
}

// serveAccount serves the account resources: the generic pipeline, with
// a create answered as the Storage provider answers it.
func (p *Provider) serveAccount(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	if call.Method == http.MethodPut && !call.Target.Collection {
		return p.create(ctx, call)
	}
	if call.Target.Collection && call.Method == http.MethodGet {
		if scope, err := arm.ParseResourceID(call.Target.Scope); err == nil && scope.Kind() == arm.ScopeSubscription {
			return p.listSubscription(ctx, call, scope)
		}
	}
	return p.c.ServeGeneric(ctx, call)
}

// listSubscription lists the accounts of every group of a subscription,
// as GET /subscriptions/{s}/providers/Microsoft.Storage/storageAccounts
// does.
func (p *Provider) listSubscription(ctx context.Context, call *cloud.Call, scope *arm.ResourceID) (*cloud.Response, error) {
	if err := p.c.RequireScope(ctx, scope); err != nil {
		return nil, err
	}
	size, after, err := call.Paging()
	if err != nil {
		return nil, err
	}
	prefix := strings.ToLower(scope.String()) + "/"
	rs, next, err := p.c.List(ctx, cloud.ListQuery{Type: TypeAccount, Scope: scope.String(), Limit: size, After: after,
		Keep: func(r cloud.Resource) bool { return strings.HasPrefix(strings.ToLower(r.ID), prefix) }})
	if err != nil {
		return nil, err
	}
	out := cloud.List{Value: make([]any, 0, len(rs)), NextLink: call.NextLink(next)}
	for _, r := range rs {
		out.Value = append(out.Value, r.Doc)
	}
	return &cloud.Response{Status: http.StatusOK, Body: out}, nil
}

// account finds the data plane's account of a resource.
func (p *Provider) account(ctx context.Context, call *cloud.Call) (storage.Account, error) {
	r, err := p.c.Get(ctx, call.Target.ID)
	if err != nil {
		return storage.Account{}, arm.NotFound("ResourceNotFound",
			"The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
			TypeAccount, call.Target.Name, call.Target.Resource.ResourceGroup)
	}
	a, err := p.svc.Account(ctx, strings.ToLower(r.Doc["name"].(string)))
	if errors.Is(err, storage.ErrNoAccount) {
		return storage.Account{}, arm.NotFound("ResourceNotFound", "The storage account '%s' has no keys.", call.Target.Name)
	}
	return a, err
}
