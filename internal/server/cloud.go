package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/authorization"
	"github.com/steward-gov/steward/internal/cloud/consumption"
	"github.com/steward-gov/steward/internal/rbac"
)

// ARMMatches selects the management API's paths: everything under
// /subscriptions and /providers (management groups, tenant-level
// providers), compared case-insensitively as ARM does.
func ARMMatches(r *http.Request) bool {
	p := strings.ToLower(cloud.CanonicalPath(r.URL.EscapedPath()))
	for _, pre := range []string{"/subscriptions", "/providers/"} {
		if p == strings.TrimSuffix(pre, "/") || strings.HasPrefix(p, pre+"/") || (strings.HasSuffix(pre, "/") && strings.HasPrefix(p, pre)) {
			return true
		}
	}
	return false
}

// CloudSetup configures the embedded ARM before it starts: it registers
// providers and hooks (c.Register, c.OnPut, c.SetPolicyHook, ...).
type CloudSetup func(ctx context.Context, s *Steward, c *cloud.Cloud) error

// CloudService is the Service that mounts the embedded ARM (the management
// API) at the root of the ARM endpoint. It creates the Cloud, runs setup,
// starts it, makes sure the bootstrap subscription exists and that the
// administrator is Owner at the tenant root (so it can create
// subscriptions and management groups), and sets s.Cloud, where services
// mounted after it may register more providers and hooks.
func CloudService(setup ...CloudSetup) Service {
	return func(ctx context.Context, s *Steward) error { return s.mountCloud(ctx, setup) }
}

func (s *Steward) mountCloud(ctx context.Context, setup []CloudSetup) error {
	c, err := cloud.New(cloud.Options{
		Store:        s.Store,
		Authenticate: s.Authenticate,
		TenantID:     s.Bootstrap.TenantID,
		Logger:       s.log.With("component", "cloud"),
		MaxBodyBytes: min(s.Config.MaxBodyBytes, cloud.DefaultMaxBodyBytes),
		PublicURL:    s.BaseURL,
		RateLimits:   s.Config.armRateLimits(),
	})
	if err != nil {
		return err
	}
	mi := s.registerManagedIdentities(c)
	s.registerFederatedCredentials(c)
	if err := s.mountManagedIdentityEndpoints(mi); err != nil {
		return fmt.Errorf("managed identities: %w", err)
	}
	c.OnPut(consumption.TypeBudget, consumption.PutBudget)
	for _, f := range setup {
		if err := f(ctx, s, c); err != nil {
			return fmt.Errorf("cloud setup: %w", err)
		}
	}
	// Role definitions and assignments are core to ARM: without the
	// provider they would be stored as generic resources, listed from the
	// store (no built-in roles) and never enforced. A setup that
	// registered it already is kept.
	if err := authorization.Register(c); err != nil {
		return fmt.Errorf("Microsoft.Authorization: %w", err)
	}
	if err := c.Start(ctx); err != nil {
		return fmt.Errorf("cloud: %w", err)
	}
	if s.Bootstrap.SubscriptionID != "" {
		ok, err := c.Exists(ctx, "/subscriptions/"+s.Bootstrap.SubscriptionID)
		if err != nil {
			return err
		}
		if !ok {
			if _, _, err := c.CreateSubscription(ctx, nil, cloud.Subscription{ID: s.Bootstrap.SubscriptionID,
				DisplayName: "Steward"}); err != nil {
				return fmt.Errorf("cloud: bootstrap subscription: %w", err)
			}
		}
	}
	if s.Bootstrap.ObjectID != "" {
		if err := c.EnsureOwner(ctx, "/", s.Bootstrap.ObjectID, rbac.PrincipalServicePrincipal); err != nil {
			return fmt.Errorf("cloud: administrator role assignment: %w", err)
		}
	}
	s.Cloud = c
	// Deployments run in the background; they stop (recorded Failed) when
	// Steward does, before the store closes.
	s.Background(func(ctx context.Context) { <-ctx.Done(); c.StopDeployments() })
	// ARM's cloud metadata document (what az cloud register and the SDKs'
	// cloud discovery read) is a discovery document: served without
	// authentication, ahead of the management API's routes.
	s.Server.Router.Handle(Route{Name: "metadata", Handler: cloud.MetadataHandler(cloud.MetadataOptions{
		ResourceManager: s.BaseURL, Authority: s.BaseURL, TenantID: s.Bootstrap.TenantID, MicrosoftGraph: s.GraphURL()}),
		Match: func(r *http.Request) bool { return cloud.IsMetadataPath(r.URL.Path) }})
	s.Server.Router.Handle(Route{Name: "arm", Handler: c.Handler(), Match: ARMMatches})
	// Azure's own host names, reached through the proxy. (The metadata
	// document is not served there: it names Steward's address, and
	// clients on the public cloud have its endpoints built in.)
	for _, h := range ManagementHosts {
		s.Server.Router.Host(h).Handle(Route{Name: "arm", Handler: c.Handler(), Match: ARMMatches})
	}
	return nil
}
